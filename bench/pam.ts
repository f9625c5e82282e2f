#!/usr/bin/env node
// npm run bench:pam [-- --json] [--runs N]: the genuine user's PAM call to PAM return, against a warm facegated
// with liveness on (as shipped) and a replay camera playing a live nuaa-dev webcam sequence at 30 fps (a loop of
// still photos would rightly be denied not-live); daemon start to ready; idle RSS. The PAM call is pamtester under pam_wrapper,
// so each figure also includes starting pamtester (reported separately as pamtester_ms_p50 for scale).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModule, pamSkipReason, runPam } from '../test/helpers/pam-harness.js';
import { currentUser, e2eSkipReason, openTempDir, replayConfigToml, replayDir, runCli, startDaemon } from '../test/helpers/daemon-harness.js';
import { liveScenario } from '../test/helpers/fixtures.js';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** User + system CPU time of a process so far, in ms (load-independent, unlike wall time on a shared box). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

const round = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const runsArg = argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(argv[runsArg + 1]) : 40;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const skip = e2eSkipReason() ?? pamSkipReason();
  if (skip) {
    if (json) process.stdout.write(`${JSON.stringify({ skipped: skip })}\n`);
    else console.error(`bench:pam skipped: ${skip}`);
    process.exitCode = 2;
    return;
  }
  const log = (s: string): void => {
    if (!json) console.error(s);
  };
  buildModule();
  const dir = openTempDir('fg-bench-pam-');
  const user = currentUser();
  try {
    // A live camera sequence, as the e2e test uses (nuaa-dev or its frames in test/fixtures).
    const faces = liveScenario();
    const enrol = replayDir(dir, 'enrol', faces.enrol);
    const genuine = replayDir(dir, 'genuine', faces.genuine);
    const db = path.join(dir, 'facegate.db');
    const sock = path.join(dir, 'facegate.sock');
    const config = path.join(dir, 'config.toml');
    // The bench runs in no logind session: its PAM service is enabled and a greeter, as a login screen's is
    // (docs/policy.md); runPam passes the module's `greeter` option to match.
    fs.writeFileSync(config, replayConfigToml('', '[verify]\ntimeout = 4\n[services]\n"facegate-test" = true\n[local]\ngreeters = ["facegate-test"]\n'));
    log(`enrolling ${user} from nuaa-dev live/0001 (5 frames)…`);
    const en = await runCli(['enroll', user, '--config', config, '--db', db, '--camera', `replay:${enrol}?loop=0`, '--frames', '5', '--json']);
    if (en.code !== 0) throw new Error(`enroll failed: ${en.stdout}${en.stderr}`);

    const t0 = performance.now();
    const daemon = await startDaemon(['--config', config, '--db', db, '--socket', sock, '--camera', `replay:${genuine}?fps=30`]);
    const readyMs = performance.now() - t0;
    try {
      const args = [`socket=${sock}`, 'timeout=4'];
      // Warm: the first request opens the camera; the bench measures the steady state a user sees on sudo.
      await runPam({ args, user });
      const times: number[] = [];
      const codes: Record<string, number> = {};
      const firstLine = daemon.lines.length;
      const cpu0 = cpuMs(daemon.proc.pid!);
      for (let i = 0; i < runs; i++) {
        const r = await runPam({ args, user });
        codes[r.code] = (codes[r.code] ?? 0) + 1;
        times.push(r.elapsedMs);
        log(`run ${i + 1}/${runs}: ${r.code} ${r.elapsedMs.toFixed(1)} ms`);
      }
      const cpuPerDecision = (cpuMs(daemon.proc.pid!) - cpu0) / runs;
      const frames = daemon.lines
        .slice(firstLine)
        .map((l) => /msg=answer .* frames=(\d+)/.exec(l)?.[1])
        .filter((f): f is string => f !== undefined)
        .map(Number);
      times.sort((x, y) => x - y);
      // pamtester's own cost: the same call against a socket nobody listens on fails at connect.
      const base: number[] = [];
      for (let i = 0; i < 10; i++) base.push((await runPam({ args: [`socket=${path.join(dir, 'absent.sock')}`, 'timeout=4'], user })).elapsedMs);
      base.sort((x, y) => x - y);
      // Idle: after the camera's idle_close (2 s default) the daemon holds only the models.
      await new Promise((r) => setTimeout(r, 3000));
      const result = {
        decision_ms_p50: round(percentile(times, 50)),
        decision_ms_p95: round(percentile(times, 95)),
        decision_ms_max: round(times[times.length - 1]!),
        runs,
        results: codes,
        pamtester_ms_p50: round(percentile(base, 50)),
        frames_per_decision: round(frames.reduce((a, b) => a + b, 0) / Math.max(1, frames.length)),
        daemon_cpu_ms_per_decision: round(cpuPerDecision),
        load_average_1m: Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
        cpus: os.cpus().length,
        ready_ms: Math.round(readyMs),
        ready_ms_daemon: daemon.readyMs,
        rss_mb: rssMb(daemon.proc.pid!),
        identity: 'nuaa-dev live/0001',
        camera: 'replay 30 fps',
        liveness: 'on (shipped calibration)',
        // With liveness the decision needs a window of analysed frames (issue 6: p50 <= 400 ms, p95 <= 800 ms).
        targets: { decision_ms_p50: 400, decision_ms_p95: 800, ready_ms: 1500, rss_mb: 300 },
      };
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        console.log(
          `PAM call -> return (genuine, warm daemon, ${runs} runs): p50 ${result.decision_ms_p50} ms, p95 ${result.decision_ms_p95} ms, max ${result.decision_ms_max} ms`,
        );
        console.log(`  results: ${JSON.stringify(codes)}; pamtester alone (connect refused): p50 ${result.pamtester_ms_p50} ms`);
        console.log(
          `  ${result.frames_per_decision} frames and ${result.daemon_cpu_ms_per_decision} ms of daemon CPU per decision; load average ${result.load_average_1m} on ${result.cpus} CPUs`,
        );
        console.log(`daemon start -> ready: ${result.ready_ms} ms (daemon's own clock: ${result.ready_ms_daemon} ms)`);
        console.log(`idle RSS: ${result.rss_mb} MB`);
      }
      if ((codes.PAM_SUCCESS ?? 0) !== runs) process.exitCode = 1;
    } finally {
      await daemon.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:pam: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
