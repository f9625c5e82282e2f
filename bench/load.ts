// Fair under load (issue 7): 200 concurrent PAM requests from 20 uids plus 64 half-open garbage connections, then
// root asks. Prints what every client saw: answers by result, how many got none before the PAM module's timeout
// (must be 0), root's answer and latency, how the garbage was dropped. Needs root (clients run under other uids).
// Usage: npm run bench:load -- [--json] [--uids N] [--per-uid N] [--garbage N] [--deadline MS]
import os from 'node:os';
import { loadSkipReason, runLoad } from '../test/helpers/load-harness.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number`);
  return n;
}

async function main(): Promise<void> {
  const skip = loadSkipReason();
  if (skip) throw new Error(skip);
  const report = await runLoad({
    uids: arg('--uids', 20),
    perUid: arg('--per-uid', 10),
    garbage: arg('--garbage', 64),
    deadlineMs: arg('--deadline', 4000),
  });
  const out = { ...report, load_average_1m: Number(os.loadavg()[0]!.toFixed(2)), cpus: os.cpus().length };
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(26)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
