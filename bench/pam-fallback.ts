#!/usr/bin/env node
// node dist/bench/pam-fallback.js [--json] [--runs N]: time from the PAM call to its answer for a camera that
// sees no face and for an impostor, with the quick fallback (verify.face_wait = 1, the default) and without it
// (face_wait = 0, the old behaviour), against a real facegated with a replay camera at 30 fps and timeout=4.
// The no-face camera plays blank grey 640x480 frames; the impostor is another lfw-dev person.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModule, pamSkipReason, runPam } from '../test/helpers/pam-harness.js';
import { currentUser, e2eSkipReason, openTempDir, pointCamera, replayConfigToml, replayDir, runCli, startDaemon } from '../test/helpers/daemon-harness.js';
import { liveScenario } from '../test/helpers/fixtures.js';

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

const round = (x: number): number => Math.round(x);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const runsArg = argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(argv[runsArg + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const skip = e2eSkipReason() ?? pamSkipReason();
  if (skip) {
    console.error(`pam-fallback skipped: ${skip}`);
    process.exitCode = 2;
    return;
  }
  buildModule();
  const dir = openTempDir('fg-bench-fallback-');
  const user = currentUser();
  const log = (s: string): void => {
    if (!json) console.error(s);
  };
  try {
    // A live camera sequence and another person (nuaa-dev, or its frames in test/fixtures), as the e2e test uses.
    const faces = liveScenario();
    const enrol = replayDir(dir, 'enrol', faces.enrol);
    const impostor = replayDir(dir, 'impostor', faces.impostor);
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    for (let i = 0; i < 4; i++)
      fs.writeFileSync(path.join(empty, `${i}.pgm`), Buffer.concat([Buffer.from('P5\n640 480\n255\n'), Buffer.alloc(640 * 480, 110 + i)]));
    const cam = path.join(dir, 'camera');
    const db = path.join(dir, 'facegate.db');
    const sock = path.join(dir, 'facegate.sock');
    const config = path.join(dir, 'config.toml');
    fs.writeFileSync(config, replayConfigToml('idle_close = 0\n'));
    const en = await runCli(['enroll', user, '--config', config, '--db', db, '--camera', `replay:${enrol}?loop=0`, '--frames', '5', '--json']);
    if (en.code !== 0) throw new Error(`enroll failed: ${en.stdout}${en.stderr}`);
    const result: Record<string, { ms_p50: number; ms_max: number; results: Record<string, number> }> = {};
    for (const faceWait of [1, 0]) {
      // idle_close = 0: every request reopens the replay camera, so re-pointing the symlink switches scenes.
      // As bench/pam.ts: the bench runs in no logind session, so its service is enabled and a greeter (runPam
      // passes the module's `greeter` option); the lockout is raised so the impostor runs are not cut short by it.
      fs.writeFileSync(
        config,
        replayConfigToml(
          'idle_close = 0\n',
          `[verify]\ntimeout = 4\nface_wait = ${faceWait}\n[services]\n"facegate-test" = true\n[local]\ngreeters = ["facegate-test"]\n[lockout]\nattempts = 100\n`,
        ),
      );
      pointCamera(cam, empty);
      const daemon = await startDaemon(['--config', config, '--db', db, '--socket', sock, '--camera', `replay:${cam}?fps=30`]);
      try {
        for (const [scene, target] of [
          ['no-face', empty],
          ['impostor', impostor],
        ] as const) {
          pointCamera(cam, target);
          const times: number[] = [];
          const codes: Record<string, number> = {};
          for (let i = 0; i < runs; i++) {
            const r = await runPam({ args: [`socket=${sock}`, 'timeout=4'], user });
            times.push(r.elapsedMs);
            codes[r.code] = (codes[r.code] ?? 0) + 1;
            log(`face_wait=${faceWait} ${scene} ${i + 1}/${runs}: ${r.code} ${r.elapsedMs.toFixed(0)} ms`);
          }
          result[`${scene}/face_wait=${faceWait}`] = { ms_p50: round(median(times)), ms_max: round(Math.max(...times)), results: codes };
        }
      } finally {
        await daemon.stop();
      }
    }
    const out = {
      runs,
      timeout_s: 4,
      camera: 'replay 30 fps',
      load_average_1m: Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      cpus: os.cpus().length,
      scenarios: result,
    };
    if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else {
      for (const [k, v] of Object.entries(result)) console.log(`${k}: PAM call -> answer p50 ${v.ms_p50} ms, max ${v.ms_max} ms, ${JSON.stringify(v.results)}`);
      console.log(`load average ${out.load_average_1m} on ${out.cpus} CPUs`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`pam-fallback: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
