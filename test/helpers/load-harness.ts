// The "fair under load" scenario of issue 7, shared by test/daemon-load.test.ts (asserts behaviour) and
// bench/load.ts (prints figures): a facegated server process (load-server.ts: the real FacegateServer, real
// SO_PEERCRED, a replay camera, a stand-in engine) faces 200 concurrent PAM requests from 20 uids plus 64 half-open connections that sent garbage,
// and then root asks. Every client runs in its own process under its own uid (so this needs root).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { askDaemon, ClientError } from '../../src/daemon/client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { LATE_WAIT_MS, PAM_GRACE_MS, type GarbageOutcome, type RequestOutcome } from './load-outcomes.js';

const CLIENT_JS = path.join(PACKAGE_ROOT, 'dist', 'test', 'helpers', 'load-client.js');
const SERVER_JS = path.join(PACKAGE_ROOT, 'dist', 'test', 'helpers', 'load-server.js');

export interface LoadOptions {
  uids?: number;
  perUid?: number;
  garbage?: number;
  /** deadline_ms of every request (the PAM module's `timeout`). */
  deadlineMs?: number;
  /** verify.timeout in seconds. */
  verifyTimeout?: number;
  /** First uid used for the load clients; garbage comes from the uids after them. */
  firstUid?: number;
}

export interface LoadReport {
  clients: number;
  uids: number;
  garbage_connections: number;
  deadline_ms: number;
  /** Requests answered before the client's timeout (deadline + PAM grace), by `result/reason`. */
  outcomes: Record<string, number>;
  /** Requests whose answer came after the PAM module would have given up (client-side clock). */
  late: number;
  /** Requests that got no answer at all (not even late): must be 0. */
  unanswered: number;
  /** Longest time from accepting a connection to answering it, by the daemon's own log (requests, not refusals). */
  daemon_answer_ms_max: number;
  /** Answers the daemon logged (the refusals at connect time are not logged one by one). */
  daemon_answers: number;
  /** Daemon log lines by message (answer, "no request in time", …). */
  daemon_log_messages: Record<string, number>;
  /** Most requests of one uid that were verified (not refused as busy): one verification per user at a time. */
  per_uid_verified_max: number;
  answer_ms_p50: number;
  answer_ms_p95: number;
  answer_ms_max: number;
  /** Root's answer, even if it came late (root_late). */
  root_result: string;
  root_late: boolean;
  root_ms: number;
  garbage_closed_by_server: number;
  garbage_still_open: number;
  garbage_close_ms_max: number;
  refused_connections: number;
  event_loop_delay_ms_max: number;
  /** CPU time (user + system) the daemon process spent from listening to the end of the scenario. */
  daemon_cpu_ms: number;
  wall_ms: number;
}

export function loadSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run clients under 20 other uids';
  if (!fs.existsSync(CLIENT_JS)) return `not built: ${CLIENT_JS}`;
  // The clients run under uids with no rights: every directory above the checkout must let others through.
  for (let dir = path.dirname(CLIENT_JS); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return `other uids cannot read the checkout (${dir} is not o+x)`;
  }
  return null;
}

interface Child {
  ready: Promise<void>;
  go(): void;
  connected: Promise<void>;
  result: Promise<unknown>;
}

function runClient(uid: number, args: string[]): Child {
  const child = spawn(process.execPath, [CLIENT_JS, ...args], { uid, gid: uid, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onConnected!: () => void;
  let onReady!: () => void;
  const connected = new Promise<void>((r) => (onConnected = r));
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
    if (out.includes('connected\n')) onConnected();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<unknown>((resolve, reject) => {
    child.on('exit', (code) => {
      onReady();
      onConnected();
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`load client (uid ${uid}) exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`load client (uid ${uid}) printed no result: ${out} ${err}`));
      }
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), connected, result };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs the scenario once and reports what every client saw. */
export async function runLoad(opts: LoadOptions = {}): Promise<LoadReport> {
  const uids = opts.uids ?? 20;
  const perUid = opts.perUid ?? 10;
  const garbageCount = opts.garbage ?? 64;
  const deadlineMs = opts.deadlineMs ?? 4000;
  const firstUid = opts.firstUid ?? 61000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-load-'));
  fs.chmodSync(dir, 0o755);
  const daemon = spawn(process.execPath, [SERVER_JS, dir, String(firstUid), String(uids), String(opts.verifyTimeout ?? 4)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let daemonOut = '';
  let daemonErr = '';
  daemon.stderr.on('data', (d: Buffer) => (daemonErr += d.toString()));
  const sock = await new Promise<string>((resolve, reject) => {
    daemon.stdout.on('data', (d: Buffer) => {
      daemonOut += d.toString();
      const m = /^listening (.+)$/m.exec(daemonOut);
      if (m) resolve(m[1]!);
    });
    daemon.once('exit', (code) => reject(new Error(`load server exited ${code}: ${daemonErr}`)));
  });
  const daemonExit = new Promise<void>((r) => daemon.once('exit', () => r()));
  let t0 = performance.now();
  try {
    // Garbage first, from uids of their own, so it holds its connection slots while the crowd arrives.
    const garbageUids = Math.max(1, Math.ceil(garbageCount / 8));
    const garbage: Child[] = [];
    for (let g = 0; g < garbageUids; g++) {
      const n = Math.min(8, garbageCount - g * 8);
      garbage.push(runClient(firstUid + uids + g, [sock, 'garbage', String(n), String(deadlineMs + 3000)]));
    }
    const crowd: Child[] = [];
    for (let i = 0; i < uids; i++) {
      crowd.push(runClient(firstUid + i, [sock, 'requests', `fgload${firstUid + i}`, String(perUid), String(deadlineMs)]));
    }
    // Every process started and warm first: what is measured is the daemon, not 28 node start-ups.
    await Promise.all([...garbage, ...crowd].map((c) => c.ready));
    t0 = performance.now();
    for (const c of garbage) c.go();
    await Promise.all(garbage.map((c) => c.connected));
    for (const c of crowd) c.go();
    await Promise.all(crowd.map((c) => c.connected));
    // Root (a greeter, sudo) asks while everyone else is queued or verifying.
    const r0 = performance.now();
    let rootResult: string;
    try {
      const a = await askDaemon(sock, { user: 'root', service: 'sudo', tty: '/dev/pts/0', rhost: '', deadlineMs }, { timeoutMs: deadlineMs + LATE_WAIT_MS });
      rootResult = `${a.result}/${a.reason}`;
    } catch (err) {
      rootResult = err instanceof ClientError ? err.code : 'error';
    }
    const rootMs = performance.now() - r0;
    const rootLate = rootMs > deadlineMs + PAM_GRACE_MS;
    const perUidAnswers = (await Promise.all(crowd.map((c) => c.result))) as RequestOutcome[][];
    const answers = perUidAnswers.flat();
    const verified = perUidAnswers.map((list) => list.filter((a) => a.outcome.startsWith('deny/') || a.outcome.startsWith('allow/')).length);
    const junk = (await Promise.all(garbage.map((c) => c.result))) as GarbageOutcome[];
    const outcomes: Record<string, number> = {};
    for (const a of answers) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
    const answered = answers.filter((a) => a.outcome.includes('/'));
    const ms = answered.map((a) => a.ms).sort((x, y) => x - y);
    const closeMs = junk.flatMap((j) => j.closeMs);
    daemon.kill('SIGTERM');
    await daemonExit;
    const stats = JSON.parse(daemonOut.trim().split('\n').at(-1)!) as {
      refused_connections: number;
      event_loop_delay_ms_max: number;
      cpu_ms: number;
      answers: number;
      answer_ms_max: number;
      messages: Record<string, number>;
    };
    return {
      clients: answers.length,
      uids,
      garbage_connections: garbageCount,
      deadline_ms: deadlineMs,
      outcomes,
      late: answers.filter((a) => a.outcome === 'late').length,
      unanswered: answers.length - answered.length - answers.filter((a) => a.outcome === 'late').length,
      daemon_answer_ms_max: stats.answer_ms_max,
      daemon_answers: stats.answers,
      daemon_log_messages: stats.messages,
      per_uid_verified_max: Math.max(0, ...verified),
      answer_ms_p50: Math.round(quantile(ms, 0.5)),
      answer_ms_p95: Math.round(quantile(ms, 0.95)),
      answer_ms_max: Math.round(ms.at(-1) ?? 0),
      root_result: rootResult,
      root_late: rootLate,
      root_ms: Math.round(rootMs),
      garbage_closed_by_server: junk.reduce((s, j) => s + j.closedByServer, 0),
      garbage_still_open: junk.reduce((s, j) => s + j.stillOpen, 0),
      garbage_close_ms_max: Math.round(Math.max(0, ...closeMs)),
      refused_connections: stats.refused_connections,
      event_loop_delay_ms_max: stats.event_loop_delay_ms_max,
      daemon_cpu_ms: stats.cpu_ms,
      wall_ms: Math.round(performance.now() - t0),
    };
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await daemonExit;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
