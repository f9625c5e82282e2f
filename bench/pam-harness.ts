// Runs the real PAM module the way sudo would, without root: pamtester under pam_wrapper, against a fake
// daemon on a temporary socket. Shared by test/pam-*.test.ts and bench/pam-latency.ts (kept out of test/
// because node --test would run it as a test file).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { FrameReader, ProtocolError, type Request } from '../src/protocol/index.js';

export const PAM_DIR = path.join(PACKAGE_ROOT, 'pam');
export const MODULE_PATH = path.join(PAM_DIR, 'build', 'pam_facegate.so');
export const FG_DECODE_PATH = path.join(PAM_DIR, 'build', 'fg-decode');

export type PamCode = 'PAM_SUCCESS' | 'PAM_AUTH_ERR' | 'PAM_AUTHINFO_UNAVAIL' | 'PAM_PERM_DENIED' | 'other';

// pamtester prints pam_strerror() of the result; these are Linux-PAM's texts.
const STRERROR: [string, PamCode][] = [
  ['successfully authenticated', 'PAM_SUCCESS'],
  ['Authentication failure', 'PAM_AUTH_ERR'],
  ['Authentication service cannot retrieve authentication info', 'PAM_AUTHINFO_UNAVAIL'],
  ['Permission denied', 'PAM_PERM_DENIED'],
];

function onPath(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, bin);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

function findPamWrapper(): string | null {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  for (const d of dirs) if (fs.existsSync(path.join(d, 'libpam_wrapper.so'))) return path.join(d, 'libpam_wrapper.so');
  return null;
}

/** Why the PAM tests cannot run here, or null when they can. */
export function pamSkipReason(): string | null {
  if (!onPath('pamtester')) return 'pamtester not installed (scripts/setup-dev.sh installs it)';
  if (!findPamWrapper()) return 'libpam-wrapper not installed (scripts/setup-dev.sh installs it)';
  if (!onPath('make') || !onPath('cc')) return 'no C toolchain';
  return null;
}

export function valgrindPath(): string | null {
  return onPath('valgrind');
}

/** Builds pam/build/pam_facegate.so and the fg-decode tool (incremental; npm run build does it too). */
export function buildModule(): void {
  execFileSync('make', ['-s', '-C', PAM_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export type Script = (req: Request, sock: net.Socket) => void | Promise<void>;

/** A scripted stand-in for facegated. The script answers each request; raw writes allow any garbage. */
export class FakeDaemon {
  connections = 0;
  requests: Request[] = [];
  errors: ProtocolError[] = [];
  private server: net.Server;
  private sockets = new Set<net.Socket>();

  private constructor(
    readonly socketPath: string,
    public script: Script,
  ) {
    this.server = net.createServer((sock) => this.onConnection(sock));
  }

  static async start(socketPath: string, script: Script): Promise<FakeDaemon> {
    const d = new FakeDaemon(socketPath, script);
    await new Promise<void>((resolve, reject) => {
      d.server.once('error', reject);
      d.server.listen(socketPath, () => resolve());
    });
    return d;
  }

  private onConnection(sock: net.Socket): void {
    this.connections++;
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {}); // the module hanging up early is normal
    const reader = new FrameReader();
    sock.on('data', (chunk) => {
      try {
        for (const req of reader.push(chunk)) {
          if (req.type !== 'request') throw new ProtocolError('unexpected-type', req.type);
          this.requests.push(req);
          void Promise.resolve(this.script(req, sock)).catch(() => sock.destroy());
        }
      } catch (e) {
        if (e instanceof ProtocolError) this.errors.push(e);
        sock.destroy();
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface PamRun {
  code: PamCode;
  /** pamtester's result line, e.g. "pamtester: Authentication failure". */
  line: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  elapsedMs: number;
}

export interface PamOptions {
  /** Module arguments, e.g. ['socket=/tmp/x.sock', 'timeout=1']. */
  args: string[];
  user?: string;
  service?: string;
  rhost?: string;
  tty?: string;
  /** Extra lines of the service file after the pam_facegate line. */
  extraLines?: string[];
  /** Control field for pam_facegate (default 'required', so the stack result is the module's code). */
  control?: string;
  /** pamtester operation (default authenticate). */
  operation?: string;
  /** Run pamtester under valgrind with these arguments. */
  valgrind?: string[];
}

/** A temp dir for sockets; the pam_wrapper service dir must be separate (it copies every file in it). */
export function tempDir(prefix = 'fg-pam-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function runPam(o: PamOptions): Promise<PamRun> {
  const service = o.service ?? 'facegate-test';
  const svcDir = tempDir('fg-pamsvc-');
  const type = o.operation === 'acct_mgmt' ? 'account' : o.operation === 'open_session' ? 'session' : 'auth';
  const lines = [`${type} ${o.control ?? 'required'} ${MODULE_PATH} ${o.args.join(' ')}`, ...(o.extraLines ?? [])];
  fs.writeFileSync(path.join(svcDir, service), lines.join('\n') + '\n');
  const items: string[] = [];
  if (o.rhost !== undefined) items.push('-I', `rhost=${o.rhost}`);
  if (o.tty !== undefined) items.push('-I', `tty=${o.tty}`);
  const pamArgs = [...items, service, o.user ?? 'alice', o.operation ?? 'authenticate'];
  const [cmd, args] = o.valgrind
    ? ['valgrind', [...o.valgrind, 'pamtester', ...pamArgs]]
    : ['pamtester', pamArgs];
  const env = {
    ...process.env,
    LD_PRELOAD: findPamWrapper() ?? 'libpam_wrapper.so',
    PAM_WRAPPER: '1',
    PAM_WRAPPER_SERVICE_DIR: svcDir,
  };
  const t0 = performance.now();
  const r = await new Promise<{ stdout: string; stderr: string; exitCode: number | null }>((resolve) => {
    execFile(cmd, args as string[], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const exitCode = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ stdout, stderr, exitCode });
    });
  });
  const elapsedMs = performance.now() - t0;
  fs.rmSync(svcDir, { recursive: true, force: true });
  const all = `${r.stdout}\n${r.stderr}`;
  const line = all.split('\n').reverse().find((l) => /^pamtester: /.test(l) && !/invoking|performing/.test(l)) ?? '';
  const code = STRERROR.find(([text]) => line === `pamtester: ${text}`)?.[1] ?? 'other';
  return { code, line, ...r, elapsedMs };
}

export const PAM_TIMER_PATH = path.join(PAM_DIR, 'build', 'fg-pam-timer');

export interface TimedCall {
  code: PamCode | 'PAM_IGNORE';
  ms: number;
}

/**
 * Runs pam_authenticate `n` times in one process (pam/build/fg-pam-timer under pam_wrapper) and returns
 * each call's exact PAM code and its in-process latency (pam_start to pam_end, CLOCK_MONOTONIC).
 */
export async function timePam(o: {
  args: string[];
  n: number;
  user?: string;
  service?: string;
  rhost?: string;
}): Promise<{ calls: TimedCall[]; info: string[] }> {
  const service = o.service ?? 'facegate-bench';
  const svcDir = tempDir('fg-pamsvc-');
  fs.writeFileSync(path.join(svcDir, service), `auth required ${MODULE_PATH} ${o.args.join(' ')}\n`);
  const argv = [service, o.user ?? 'alice', String(o.n), ...(o.rhost !== undefined ? [o.rhost] : [])];
  const env = { ...process.env, LD_PRELOAD: findPamWrapper() ?? 'libpam_wrapper.so', PAM_WRAPPER: '1', PAM_WRAPPER_SERVICE_DIR: svcDir };
  const r = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(PAM_TIMER_PATH, argv, { env, timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`fg-pam-timer failed: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
  fs.rmSync(svcDir, { recursive: true, force: true });
  const calls = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [code, ms] = l.split(' ');
      return { code: code as TimedCall['code'], ms: Number(ms) };
    });
  const info = r.stderr.split('\n').filter((l) => l.startsWith('info: ')).map((l) => l.slice(6));
  return { calls, info };
}
