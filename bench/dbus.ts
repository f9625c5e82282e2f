// What the D-Bus front end adds to a verification: the same request (stand-in engine, warm replay camera,
// allow on the first frame) through the Unix socket and through D-Bus on a private dbus-daemon, alternated, plus
// a GetStatus round trip, timed by a client in another process. `npm run bench:dbus [-- --json] [-- --n 60]`.
import { userNameOfUid } from '../src/daemon/peercred.js';
import { lookupFromSync } from '../src/daemon/user-directory.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import dbus from 'dbus-next';
import { meanBrightness } from '../src/camera/camera.js';
import { defaultConfig } from '../src/config/config.js';
import { CameraManager } from '../src/auth/camera-manager.js';
import { askDaemon } from '../src/daemon/client.js';
import type { FaceEngine, FoundFace, UserMatcher } from '../src/auth/engine.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { callFacegate, verifyOverDbus } from '../src/dbus/client.js';
import { startDbusService } from '../src/dbus/connect.js';
import { TemplateStore } from '../src/store/store.js';
import type { RawImage } from '../src/vision/types.js';
import { FakeLiveness } from '../test/helpers/fake-liveness.js';

const MODEL = { id: 'fake', sha256: 'f'.repeat(64) };
const unit = (level: number): Float32Array => Float32Array.from([Math.cos((level / 255) * (Math.PI / 2)), Math.sin((level / 255) * (Math.PI / 2))]);

const engine: FaceEngine = {
  models: [MODEL],
  async detect(image: RawImage): Promise<FoundFace[]> {
    const b = meanBrightness(image);
    return [
      { box: { x: 0, y: 0, width: image.width, height: image.height }, score: 1, quality: { faceSizePx: 60, sharpness: 100, brightness: b, yaw: 0, pitch: 0 } },
    ];
  },
  async embed(image: RawImage) {
    return new Map([[MODEL.id, unit(meanBrightness(image))]]);
  },
  matcher(templates): UserMatcher | null {
    const t = templates.get(MODEL.id)?.[0];
    return t ? { threshold: 0.99, score: (e) => t[0]! * e.get(MODEL.id)![0]! + t[1]! * e.get(MODEL.id)![1]! } : null;
  },
  async close() {},
};

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2));
}

async function clientMain(address: string, sock: string, n: number): Promise<void> {
  const client = dbus.sessionBus({ busAddress: address });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const req = { user: 'alice', service: 'sudo', tty: '', rhost: '', deadlineMs: 3000 };
  const viaSocket: number[] = [];
  const viaDbus: number[] = [];
  const status: number[] = [];
  for (let i = -3; i < n; i++) {
    let t = performance.now();
    const a = await askDaemon(sock, req);
    const s = performance.now() - t;
    t = performance.now();
    const d = await verifyOverDbus(client, 'alice', 5000);
    const b = performance.now() - t;
    t = performance.now();
    await callFacegate(client, 'GetStatus');
    const g = performance.now() - t;
    if (a.result !== 'allow' || d.answer !== 'allow') throw new Error(`unexpected answers ${a.result} / ${d.answer}`);
    if (i < 0) continue; // warm-up
    viaSocket.push(s);
    viaDbus.push(b);
    status.push(g);
  }
  client.disconnect();
  process.stdout.write(
    JSON.stringify({
      n,
      socket_verify_ms_p50: pct(viaSocket, 50),
      socket_verify_ms_p95: pct(viaSocket, 95),
      dbus_verify_ms_p50: pct(viaDbus, 50),
      dbus_verify_ms_p95: pct(viaDbus, 95),
      dbus_getstatus_ms_p50: pct(status, 50),
      dbus_getstatus_ms_p95: pct(status, 95),
    }),
  );
}

async function main(): Promise<void> {
  const c = process.argv.indexOf('--client');
  if (c >= 0) return clientMain(process.argv[c + 1]!, process.argv[c + 2]!, Number(process.argv[c + 3]));
  const json = process.argv.includes('--json');
  const nArg = process.argv.indexOf('--n');
  const n = nArg >= 0 ? Number(process.argv[nArg + 1]) : 40;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-dbus-'));
  const conf = path.join(dir, 'bus.conf');
  fs.writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${dir}/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>`,
  );
  // stderr ignored: as non-root, dbus-daemon complains it cannot raise its fd limit.
  const busd = spawn('dbus-daemon', [`--config-file=${conf}`, '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise<string>((resolve, reject) => {
    busd.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    busd.once('error', reject);
  });
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), Buffer.concat([Buffer.from('P5\n32 32\n255\n'), Buffer.alloc(1024, 200)]));
  const config = defaultConfig();
  config.camera.device = `replay:${cam}?fps=30`;
  config.camera.allow_replay = true;
  config.services.enabled.dbus = true; // off by default (docs/config.md)
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  store.addFace('alice', 'default', [{ ...MODEL, vector: unit(200) }], { uid: 1000 });
  const log = createLogger(() => {});
  // The camera stays open between requests, as on a warm daemon.
  const camera = new CameraManager(config.camera.device, 60_000, log);
  // The bench process is in no logind session; the local rule is not what this measures. alice exists only in this bench's database: name-to-uid is faked, uid-to-name is real.
  const users = lookupFromSync(userNameOfUid, (name) => (name === 'alice' ? 1000 : null));
  const server = new FacegateServer({ config, store, engine, liveness: new FakeLiveness(), camera, log, users, sessionOf: () => 'local' });
  const sock = path.join(dir, 's.sock');
  await server.listenPath(sock);
  const handle = await startDbusService('session', { runner: server, store, models: engine.models, camera, config, log }, { busAddress: address });
  // The clients run in another process, as a lock screen and pam_facegate do.
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--client', address, sock, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`client exited ${code}`);
  const out = JSON.parse(text) as Record<string, number>;
  await handle.close();
  await server.close();
  await camera.shutdown();
  store.close();
  busd.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(`verification (stand-in engine, warm replay camera, allow on the first frame), n=${n}\n`);
    process.stdout.write(`  socket:    p50 ${out.socket_verify_ms_p50} ms  p95 ${out.socket_verify_ms_p95} ms\n`);
    process.stdout.write(`  D-Bus:     p50 ${out.dbus_verify_ms_p50} ms  p95 ${out.dbus_verify_ms_p95} ms  (GetNameOwner, Verify, signals to VerifyResult)\n`);
    process.stdout.write(`  GetStatus: p50 ${out.dbus_getstatus_ms_p50} ms  p95 ${out.dbus_getstatus_ms_p95} ms\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:dbus: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
