// Runs the real PAM module in a real libpam stack without root (pam/build/fg-pam-run with a private service
// dir, or pamtester under pam_wrapper) against a scripted fake daemon on a temporary socket. Shared by
// test/pam-*.test.ts and bench/pam-latency.ts; kept out of test/ because node --test runs every file there.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { FrameReader, ProtocolError, encodeAnswer, type Request, type Reset } from '../../src/protocol/index.js';

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

export function findPamWrapper(): string | null {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  for (const d of dirs) if (fs.existsSync(path.join(d, 'libpam_wrapper.so'))) return path.join(d, 'libpam_wrapper.so');
  return null;
}

/** Why the PAM tests cannot run here, or null when they can. */
export function pamSkipReason(): string | null {
  if (!onPath('make') || !onPath('cc')) return 'no C toolchain';
  if (!fs.existsSync('/usr/include/security/pam_appl.h')) return 'libpam0g-dev not installed (scripts/setup-dev.sh)';
  return null;
}

/** Why pamtester-under-pam_wrapper tests cannot run here, or null when they can. */
export function pamtesterSkipReason(): string | null {
  if (!onPath('pamtester')) return 'pamtester not installed (scripts/setup-dev.sh installs it)';
  if (!findPamWrapper()) return 'libpam-wrapper not installed (scripts/setup-dev.sh installs it)';
  return pamSkipReason();
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
  /** Reset frames received (the module's account phase), answered ok/reset. */
  resets: Reset[] = [];
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
          if (req.type === 'reset') {
            this.resets.push(req);
            sock.end(encodeAnswer('ok', 'reset'));
            continue;
          }
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

export const PAM_RUN_PATH = path.join(PAM_DIR, 'build', 'fg-pam-run');

export interface PamRun {
  /** The exact PAM return code of the operation, e.g. 'PAM_SUCCESS'. */
  code: string;
  /** One readable line for assertion messages: the code and the driver's stderr (module texts, errors). */
  line: string;
  /** PAM_TEXT_INFO / PAM_ERROR_MSG texts the module sent, in order. */
  info: string[];
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
  /** Operation (default auth); 'login' is auth then, on success, the account phase in the same handle. */
  operation?: 'auth' | 'acct' | 'login' | 'setcred' | 'session';
  /**
   * Add the `greeter` option (default true). Tests run outside any logind session, where the module refuses
   * every service that is not a greeter (docs/policy.md); set false to test that refusal.
   */
  greeter?: boolean;
  /** daemon_user= to pass (default: the user running the tests, who runs the fake daemon); null: none. */
  daemonUser?: string | null;
  /** Run under valgrind with these arguments. */
  valgrind?: string[];
  /** Pass PAM_SILENT (fg-pam-run only). */
  silent?: boolean;
  /** A command prefix for fg-pam-run (and valgrind), e.g. logind-tree.ts's inLogindTree(). */
  wrap?: string[];
  /** Another copy of fg-pam-run to run (a set-uid one, to stand for sudo). */
  program?: string;
}

/** A temp dir for sockets and service files. */
export function tempDir(prefix = 'fg-pam-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const PAM_TYPE = { auth: 'auth', acct: 'account', login: 'auth', setcred: 'auth', session: 'session' } as const;

/** The module arguments a test gets: its own, plus greeter and daemon_user unless it opted out. */
export function moduleArgs(o: Pick<PamOptions, 'args' | 'greeter' | 'daemonUser'>): string[] {
  const args = [...o.args];
  if (o.greeter !== false && !args.includes('greeter')) args.push('greeter');
  const du = o.daemonUser === undefined ? os.userInfo().username : o.daemonUser;
  if (du !== null && !args.some((a) => a.startsWith('daemon_user='))) args.push(`daemon_user=${du}`);
  return args;
}

function serviceDir(o: PamOptions, service: string): string {
  const dir = tempDir('fg-pamsvc-');
  const type = PAM_TYPE[o.operation ?? 'auth'];
  const lines = [`${type} ${o.control ?? 'required'} ${MODULE_PATH} ${moduleArgs(o).join(' ')}`, ...(o.extraLines ?? [])];
  fs.writeFileSync(path.join(dir, service), `${lines.join('\n')}\n`);
  return dir;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const exitCode = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ stdout, stderr, exitCode });
    });
  });
}

/**
 * One PAM operation in a fresh process (pam/build/fg-pam-run), reading the service file from a private
 * directory with pam_start_confdir: exact return code, no root, no pam_wrapper, safe to run in parallel.
 */
export async function runPam(o: PamOptions): Promise<PamRun> {
  const calls = await timePam({ ...o, n: 1 });
  const c = calls.calls[0];
  const code = c?.code ?? 'none';
  const line = `fg-pam-run: ${code}${calls.raw.stderr.trim() ? ` | ${calls.raw.stderr.trim().split('\n').join(' | ')}` : ''}`;
  return { code, line, info: calls.info, ...calls.raw, elapsedMs: calls.elapsedMs };
}

export interface TimedCall {
  code: string;
  ms: number;
}

/** Runs the operation `n` times in one fg-pam-run process; per-call code and in-process latency. */
export async function timePam(o: PamOptions & { n: number }): Promise<{
  calls: TimedCall[];
  info: string[];
  raw: { stdout: string; stderr: string; exitCode: number | null };
  elapsedMs: number;
}> {
  const service = o.service ?? 'facegate-test';
  const dir = serviceDir(o, service);
  const argv = ['-c', dir, '-n', String(o.n), '-o', o.operation ?? 'auth'];
  if (o.rhost !== undefined) argv.push('-r', o.rhost);
  if (o.tty !== undefined) argv.push('-t', o.tty);
  if (o.silent) argv.push('-s');
  argv.push(service, o.user ?? 'alice');
  const program = o.program ?? PAM_RUN_PATH;
  const inner = o.valgrind ? ['valgrind', ...o.valgrind, program, ...argv] : [program, ...argv];
  const [cmd, ...args] = [...(o.wrap ?? []), ...inner] as [string, ...string[]];
  const t0 = performance.now();
  const raw = await run(cmd, args, process.env);
  const elapsedMs = performance.now() - t0;
  fs.rmSync(dir, { recursive: true, force: true });
  const calls = raw.stdout
    .split('\n')
    .filter((l) => /^PAM_\S+ [\d.]+$/.test(l))
    .map((l) => {
      const [code, ms] = l.split(' ');
      return { code: code!, ms: Number(ms) };
    });
  const info = raw.stderr
    .split('\n')
    .filter((l) => l.startsWith('info: '))
    .map((l) => l.slice(6));
  return { calls, info, raw, elapsedMs };
}

export interface PamtesterRun {
  code: PamCode;
  /** pamtester's result line, e.g. "pamtester: Authentication failure". */
  line: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/**
 * pamtester under pam_wrapper, the way an administrator would try the module. pam_wrapper copies the
 * service dir to a shared /tmp/pam.X directory and cleans "stale" ones, which races when several run at
 * once (one run can end up reading another's service file): runs are serialised with flock(1) across processes,
 * and callers should use a unique service name, so a mix-up fails instead of passing.
 */
let flockAvailable: boolean | undefined;
function hasFlock(): boolean {
  if (flockAvailable === undefined) {
    try {
      execFileSync('flock', ['--version'], { stdio: 'ignore' });
      flockAvailable = true;
    } catch {
      flockAvailable = false;
    }
  }
  return flockAvailable;
}

export async function runPamtester(o: PamOptions & { service: string }): Promise<PamtesterRun> {
  const dir = serviceDir(o, o.service);
  const items: string[] = [];
  if (o.rhost !== undefined) items.push('-I', `rhost=${o.rhost}`);
  if (o.tty !== undefined) items.push('-I', `tty=${o.tty}`);
  const op = { auth: 'authenticate', acct: 'acct_mgmt', login: 'authenticate', setcred: 'setcred', session: 'open_session' }[o.operation ?? 'auth'];
  const env = { ...process.env, LD_PRELOAD: findPamWrapper() ?? 'libpam_wrapper.so', PAM_WRAPPER: '1', PAM_WRAPPER_SERVICE_DIR: dir };
  // flock(1) serialises pamtester runs across test files (node --test runs files in parallel), which is what
  // pam_wrapper's shared /tmp/pam.X directories need; without flock, callers still must not overlap.
  const argv = [...items, o.service, o.user ?? 'alice', op];
  const r = hasFlock() ? await run('flock', [path.join(os.tmpdir(), 'facegate-pamtester.lock'), 'pamtester', ...argv], env) : await run('pamtester', argv, env);
  fs.rmSync(dir, { recursive: true, force: true });
  const all = `${r.stdout}\n${r.stderr}`;
  const line =
    all
      .split('\n')
      .reverse()
      .find((l) => /^pamtester: /.test(l) && !/invoking|performing/.test(l)) ?? '';
  const code = STRERROR.find(([text]) => line === `pamtester: ${text}`)?.[1] ?? 'other';
  return { code, line, ...r };
}

export interface StackRun extends PamtesterRun {
  /** Everything pamtester printed (prompts included), stdout then stderr. */
  output: string;
}

/**
 * pamtester under pam_wrapper with a whole service directory (a real stack and the files it includes), run as
 * root or, with `asUser`, as that user (a lock screen runs PAM as the logged-in user). Serialised like
 * runPamtester; standard input is empty, so a password prompt gets no answer.
 */
export async function runPamtesterStack(o: {
  dir: string;
  service: string;
  user: string;
  asUser?: string;
  rhost?: string;
  prefix?: string[];
}): Promise<StackRun> {
  const env = { ...process.env, LD_PRELOAD: findPamWrapper() ?? 'libpam_wrapper.so', PAM_WRAPPER: '1', PAM_WRAPPER_SERVICE_DIR: o.dir };
  const items = o.rhost !== undefined ? ['-I', `rhost=${o.rhost}`] : [];
  const as = o.asUser ? ['setpriv', `--reuid=${o.asUser}`, `--regid=${o.asUser}`, '--init-groups'] : [];
  const argv = [...(o.prefix ?? []), ...as, 'pamtester', ...items, o.service, o.user, 'authenticate'];
  const full = hasFlock() ? ['flock', path.join(os.tmpdir(), 'facegate-pamtester.lock'), ...argv] : argv;
  // Standard input is closed, not an open pipe: a password prompt must read EOF, not wait.
  const r = await new Promise<{ stdout: string; stderr: string; exitCode: number | null }>((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (exitCode) => {
      clearTimeout(t);
      resolve({ stdout, stderr, exitCode });
    });
  });
  const output = `${r.stdout}\n${r.stderr}`;
  const line =
    output
      .split('\n')
      .reverse()
      .find((l) => /^pamtester: /.test(l) && !/invoking|performing/.test(l)) ?? '';
  const code = STRERROR.find(([text]) => line === `pamtester: ${text}`)?.[1] ?? 'other';
  return { code, line, output, ...r };
}

/**
 * Tests that install or remove facegate on this machine (test/deb-clients, the uninstall.sh test) hold this lock
 * while they do, so node --test running files side by side cannot interleave them. flock(1) holds it for as long
 * as the returned release() has not been called.
 */
export const SYSTEM_LOCK = path.join(os.tmpdir(), 'facegate-system-test.lock');

export async function holdSystemLock(): Promise<() => Promise<void>> {
  const child = spawn('flock', [SYSTEM_LOCK, '-c', 'echo held; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`flock exited ${code}`)));
  });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
    });
}

/** A stand-in daemon in another process running as `user` (needs root): it answers allow to anything. */
export interface ForeignDaemon {
  socketPath: string;
  /** Byte counts of what it received, one entry per frame read. */
  received: number[];
  stop(): void;
}

export async function startDaemonAs(user: string, parent: string): Promise<ForeignDaemon> {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  fs.chmodSync(parent, 0o755);
  const dir = fs.mkdtempSync(path.join(parent, 'as-'));
  fs.chownSync(dir, uid, gid);
  const socketPath = path.join(dir, 'facegate.sock');
  const allow = encodeAnswer('allow', 'match').toString('hex');
  const script = `const net=require('net');net.createServer(s=>{s.on('data',d=>{process.stdout.write('got '+d.length+'\\n');s.end(Buffer.from('${allow}','hex'))});s.on('error',()=>{});s.on('end',()=>s.end())}).listen(process.argv[1],()=>process.stdout.write('ready\\n'))`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, socketPath], { uid, gid, stdio: ['ignore', 'pipe', 'inherit'] });
  const received: number[] = [];
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      for (const l of d.toString().trim().split('\n')) {
        if (l === 'ready') resolve();
        else if (l.startsWith('got ')) received.push(Number(l.slice(4)));
      }
    });
    child.once('exit', (c) => reject(new Error(`daemon as ${user} exited ${c}`)));
  });
  return { socketPath, received, stop: () => void child.kill() };
}

/**
 * Whether dpkg has the package in any state but "not installed" (installed, unpacked, or removed with its
 * conffiles kept). dpkg-query prints e.g. "install ok installed", "deinstall ok config-files", or for a purged
 * package "unknown ok not-installed" (or nothing).
 */
export function packageKnown(pkg: string): boolean {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.trim();
  return status !== '' && !status.endsWith(' not-installed');
}
