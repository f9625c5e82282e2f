// PAM call -> PAM return latency of pam_facegate, measured in-process with pam/build/fg-pam-run
// (pam_start_confdir on a private service dir, no root). Without --socket it runs against a fake daemon that answers at once, which
// measures the module + protocol + socket overhead; with --socket it asks a running facegated.
//
//   node dist/bench/pam-latency.js [--json] [--n 200] [--socket PATH --user USER [--timeout S]]
//
// JSON keys: decision_ms_p50 / decision_ms_p95 (the main scenario: "daemon" with --socket, else
// "fake-allow"), and per-scenario n, p50, p95, max, codes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeAnswer, encodeEvent } from '../src/protocol/index.js';
import { FakeDaemon, buildModule, pamSkipReason, tempDir, timePam, type Script, type TimedCall } from '../test/helpers/pam-harness.js';

export interface Stats {
  n: number;
  p50: number;
  p95: number;
  max: number;
  codes: Record<string, number>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function stats(calls: TimedCall[]): Stats {
  const ms = calls.map((c) => c.ms).sort((a, b) => a - b);
  const codes: Record<string, number> = {};
  for (const c of calls) codes[c.code] = (codes[c.code] ?? 0) + 1;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: ms.length, p50: r(quantile(ms, 0.5)), p95: r(quantile(ms, 0.95)), max: r(ms.at(-1) ?? NaN), codes };
}

/** Measures n PAM authentications against the daemon listening on `socket` (used by `npm run bench:pam`). */
export async function measureDaemon(socket: string, user: string, n: number, timeoutS = 4): Promise<Stats> {
  return stats((await timePam({ args: [`socket=${socket}`, `timeout=${timeoutS}`], n, user })).calls);
}

async function withFake(dir: string, name: string, script: Script, run: (sock: string) => Promise<Stats>): Promise<Stats> {
  const d = await FakeDaemon.start(path.join(dir, `${name}.sock`), script);
  try {
    return await run(d.socketPath);
  } finally {
    await d.close();
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const n = Number(arg('n') ?? 200);
  const skip = pamSkipReason();
  if (skip) {
    console.error(`pam-latency: cannot run: ${skip}`);
    process.exit(2);
  }
  buildModule();
  const scenarios: Record<string, Stats> = {};
  let main: string;
  const socket = arg('socket');
  if (socket) {
    main = 'daemon';
    scenarios.daemon = await measureDaemon(socket, arg('user') ?? 'alice', n, Number(arg('timeout') ?? 4));
  } else {
    main = 'fake-allow';
    const dir = tempDir();
    try {
      const t = (args: string[], k: number, rhost?: string) => async (sock: string) =>
        stats((await timePam({ args: [`socket=${sock}`, ...args], n: k, ...(rhost ? { rhost } : {}) })).calls);
      scenarios['fake-allow'] = await withFake(dir, 'a', (_r, s) => void s.end(encodeAnswer('allow', 'match')), t(['timeout=4'], n));
      scenarios['fake-events-deny'] = await withFake(
        dir,
        'b',
        (_r, s) => {
          for (const e of ['looking', 'no-face', 'retry'] as const) s.write(encodeEvent(e));
          s.end(encodeAnswer('deny', 'no-match'));
        },
        t(['timeout=4', 'notice'], n),
      );
      // An IP literal: with a host name, libpam's audit record resolves it (DNS), which is not the module's time.
      scenarios['remote-rhost'] = await withFake(dir, 'c', () => {}, t(['timeout=4'], n, '203.0.113.9'));
      scenarios['no-daemon'] = await t(['timeout=4'], n)(path.join(dir, 'absent.sock'));
      // The deadline bound: a daemon that never answers, timeout=1 -> must return by 1.5 s.
      scenarios['stall-timeout-1s'] = await withFake(dir, 'd', () => {}, t(['timeout=1'], Math.min(n, 5)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const out = { decision_ms_p50: scenarios[main]!.p50, decision_ms_p95: scenarios[main]!.p95, main, scenarios };
  if (json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log('scenario              n     p50 ms   p95 ms   max ms   codes');
  for (const [name, s] of Object.entries(scenarios)) {
    console.log(
      `${name.padEnd(20)} ${String(s.n).padStart(4)} ${s.p50.toFixed(2).padStart(9)} ${s.p95.toFixed(2).padStart(8)} ${s.max
        .toFixed(2)
        .padStart(8)}   ${Object.entries(s.codes)
        .map(([c, k]) => `${c}=${k}`)
        .join(' ')}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
