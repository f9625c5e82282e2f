#!/usr/bin/env node
// facegated: loads the config, the templates and the models once, then answers PAM requests on the socket.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { ConfigError } from '../config/config.js';
import type { DbusHandle } from '../dbus/connect.js';
import { loadConfig } from '../config/load.js';
import { TemplateStore } from '../store/store.js';
import { CameraManager } from '../auth/camera-manager.js';
import { createLogger } from './log.js';
import { FacegateServer } from './server.js';
import { writeStatus, removeStatus } from './status-file.js';
import { checkPrivateDir } from './runtime-dir.js';
import { untrustedCamera } from '../camera/identity.js';
import { VisionEngine } from '../auth/vision-engine.js';
import { loadConfiguredLiveness } from '../liveness/load.js';

const SD_LISTEN_FDS_START = 3;

interface Flags {
  config?: string;
  db?: string;
  socket?: string;
  camera?: string;
  threads?: string;
  dbus?: string;
  debug?: boolean;
}

/** The inherited listening socket under systemd socket activation, if any. */
function activationFd(): number | undefined {
  if (process.env.LISTEN_PID !== String(process.pid)) return undefined;
  const n = Number(process.env.LISTEN_FDS);
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_FDNAMES;
  return Number.isInteger(n) && n >= 1 ? SD_LISTEN_FDS_START : undefined;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('facegated')
    .description('facegate face authentication daemon (answers pam_facegate over a Unix socket)')
    .option('--config <file>', 'config file (default /etc/facegate/config.toml)')
    .option('--db <file>', 'template database (overrides daemon.db)')
    .option('--socket <path>', 'socket to listen on (overrides daemon.socket; ignored under socket activation)')
    .option('--camera <spec>', 'camera: v4l2:/dev/videoN or replay:DIR (overrides camera.device)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads per model (overrides daemon.threads)')
    .option('--dbus <bus>', 'export the D-Bus API (docs/dbus.md) on the system or session bus, or none', 'none')
    .option('--debug', 'log debug lines')
    .showHelpAfterError();
  program.parse(process.argv);
  const flags = program.opts<Flags>();
  const log = createLogger(undefined, flags.debug === true);
  // Everything the daemon creates (database, WAL, status file) is private unless chmod'ed on purpose.
  process.umask(0o077);

  let config;
  try {
    config = loadConfig({
      ...(flags.config !== undefined ? { config: flags.config } : {}),
      ...(flags.db !== undefined ? { db: flags.db } : {}),
      ...(flags.socket !== undefined ? { socket: flags.socket } : {}),
      ...(flags.camera !== undefined ? { camera: flags.camera } : {}),
    });
  } catch (err) {
    log.error('bad configuration', { error: (err as Error).message, key: err instanceof ConfigError ? err.key : undefined });
    process.exit(2);
  }
  const dbusBus = flags.dbus ?? 'none';
  if (dbusBus !== 'system' && dbusBus !== 'session' && dbusBus !== 'none') {
    log.error('bad option', { error: `--dbus must be one of system, session, none, got ${JSON.stringify(dbusBus.slice(0, 40))}` });
    process.exit(2);
  }
  let threads: number | undefined = config.daemon.threads === 0 ? undefined : config.daemon.threads;
  if (flags.threads !== undefined) {
    threads = Number(flags.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      log.error('bad option', { error: '--threads must be an integer 1..64' });
      process.exit(2);
    }
  }

  // A database that cannot be opened (corrupt, unreadable, wrong owner) must not keep PAM waiting on a daemon
  // that restarts in a loop: serve, answer every request `unavailable` at once, and say why in the log.
  let store: TemplateStore | null = null;
  try {
    store = TemplateStore.open(config.daemon.db);
  } catch (err) {
    log.error('template database unavailable', { db: config.daemon.db, error: (err as Error).message, fix: 'run "facegate doctor"' });
  }
  const engine = await VisionEngine.load({
    embedders: config.verify.embedders,
    targetFar: config.verify.target_far,
    rule: { kind: config.verify.rule, frames: config.verify.rule_frames },
    ...(threads !== undefined ? { intraOpThreads: threads } : {}),
  });
  const liveness = await loadConfiguredLiveness(config.liveness, threads);
  const camera = new CameraManager(config.camera.device, config.camera.idle_close * 1000, log, undefined, (info) => untrustedCamera(info, config.camera));
  const server = new FacegateServer({ config, store, engine, liveness: liveness?.checker ?? null, camera, log });
  const fd = activationFd();
  const socketDir = path.dirname(config.daemon.socket);
  // Under socket activation the socket is systemd's; the directory then only holds the status file, if it exists.
  const statusDirExists = fd === undefined || fs.existsSync(socketDir);
  try {
    if (fd === undefined) {
      // 0755 despite our 0077 umask: users' own PAM stacks (lock screens) must reach the 0666 socket inside.
      if (fs.mkdirSync(socketDir, { recursive: true }) !== undefined) fs.chmodSync(socketDir, 0o755);
    }
    // Someone who can write there could swap our socket or status file for their own.
    if (statusDirExists) checkPrivateDir(socketDir);
  } catch (err) {
    log.error('unsafe socket directory', { error: (err as Error).message });
    process.exit(2);
  }
  if (fd !== undefined) await server.listenFd(fd);
  else await server.listenPath(config.daemon.socket);
  const readyMs = Math.round(performance.now());
  let statusFile: string | undefined;
  try {
    if (!statusDirExists) throw new Error(`${socketDir} does not exist`);
    statusFile = writeStatus(config.daemon.socket, {
      pid: process.pid,
      started: new Date(Date.now() - readyMs).toISOString(),
      ready_ms: readyMs,
      socket: config.daemon.socket,
      socket_activated: fd !== undefined,
      camera: config.camera.device,
      models: engine.models.map((m) => ({ id: m.id, sha256: m.sha256 })),
      target_far: config.verify.target_far,
    });
  } catch (err) {
    // Only `facegate status` reads it; serving PAM matters more.
    log.warn('cannot write status file', { error: (err as Error).message });
  }
  log.info('ready', {
    ready_ms: readyMs,
    socket: fd !== undefined ? `fd:${fd}` : config.daemon.socket,
    camera: config.camera.device,
    models: engine.models.map((m) => `${m.id}@${m.sha256.slice(0, 12)}`).join(','),
    liveness: liveness ? config.liveness.cues.join(',') : 'off',
    rss_mb: Math.round(process.memoryUsage().rss / 1048576),
  });

  // After the socket is up: PAM never waits for D-Bus, and a missing bus costs the desktop API only.
  let dbusHandle: DbusHandle | null = null;
  if (dbusBus !== 'none') {
    // Imported only now: dbus-next costs ~0.4 s of start-up that PAM requests should not wait for.
    const { startDbusService } = await import('../dbus/connect.js');
    dbusHandle = await startDbusService(dbusBus, {
      runner: server,
      store: store ?? {
        listFaces: () => {
          throw new Error('template database unavailable (facegate doctor)');
        },
      },
      models: engine.models,
      camera,
      config,
      log,
    }).catch((err: unknown) => {
      log.error('dbus unavailable', { bus: dbusBus, error: err instanceof Error ? err.message : String(err) });
      return null;
    });
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    await dbusHandle?.close();
    await server.close();
    await camera.shutdown();
    await engine.close();
    await liveness?.close();
    store?.close();
    if (statusFile) removeStatus(statusFile);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stdout.write(`level=error msg="cannot start" error=${JSON.stringify(err instanceof Error ? err.message : String(err))}\n`);
  process.exit(1);
});
