// Starts the real facegated (built JS) on a temp socket with a replay camera, and enrols a user with the real
// CLI, the way an installed system does. Shared by test/e2e-pam.test.ts and bench/pam.ts (kept out of test/
// because node --test would run it as a test file).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelsDir, PACKAGE_ROOT } from '../../src/paths.js';

export const DAEMON_JS = path.join(PACKAGE_ROOT, 'dist', 'src', 'daemon', 'main.js');
export const CLI_JS = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

/** Why a real-model end-to-end run cannot happen here, or null when it can. */
export function e2eSkipReason(): string | null {
  if (!fs.existsSync(path.join(modelsDir(), 'manifest.json'))) return `models not built in ${modelsDir()} (npm run build:models)`;
  if (!fs.existsSync(DAEMON_JS) || !fs.existsSync(CLI_JS)) return 'not built (npm run build:ts)';
  const calDir = process.env.FACEGATE_CALIBRATION_DIR ?? path.join(PACKAGE_ROOT, 'calibration');
  if (!fs.existsSync(calDir) || !fs.readdirSync(calDir).some((f) => f.endsWith('.json'))) return `no calibration tables in ${calDir}`;
  return null;
}

/**
 * Config text for tests and benches that use a replay camera: `replay:` is refused unless the config opts in with
 * camera.allow_replay (issue 7), which a real system never does. `camera` adds [camera] keys, `rest` more sections.
 */
export function replayConfigToml(camera = '', rest = ''): string {
  return `[camera]\nallow_replay = true\n${camera}${rest}`;
}

/** A directory of symlinks to `images`, for a replay camera. */
export function replayDir(parent: string, name: string, images: readonly string[]): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  images.forEach((img, i) => {
    fs.symlinkSync(img, path.join(dir, `${String(i).padStart(3, '0')}${path.extname(img)}`));
  });
  return dir;
}

/** Points the camera symlink at another replay directory (the daemon reopens the camera per request when idle_close = 0). */
export function pointCamera(link: string, target: string): void {
  const tmp = `${link}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_JS, ...args], { env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

export interface Daemon {
  proc: ChildProcess;
  socket: string;
  /** Every stdout line so far. */
  lines: string[];
  readyMs: number;
  /** Lines matching a pattern since index `from`. */
  count(re: RegExp, from?: number): number;
  stop(): Promise<void>;
}

/** Starts facegated and resolves once it prints its ready line. */
export function startDaemon(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [DAEMON_JS, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    let stderr = '';
    const socketIdx = args.indexOf('--socket');
    const socket = socketIdx >= 0 ? args[socketIdx + 1]! : '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`facegated not ready within ${opts.timeoutMs ?? 120_000} ms:\n${lines.join('\n')}\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    const daemon: Daemon = {
      proc,
      socket,
      lines,
      readyMs: -1,
      count: (re, from = 0) => lines.slice(from).filter((l) => re.test(l)).length,
      stop: () =>
        new Promise<void>((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          proc.once('exit', () => res());
          proc.kill('SIGTERM');
          setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
        }),
    };
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const m = /msg=ready ready_ms=(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          daemon.readyMs = Number(m[1]);
          resolve(daemon);
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`facegated exited (${code}) before ready:\n${lines.join('\n')}\n${stderr}`));
    });
  });
}

/** A world-readable temp dir (clients running as nobody must reach the socket inside). */
export function openTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** The login name PAM requests are made for: the user running the tests (root in CI). */
export function currentUser(): string {
  return os.userInfo().username;
}
