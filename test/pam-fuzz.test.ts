// A short deterministic libFuzzer run of the C protocol codec over the committed seed corpus
// (the long campaign is documented in fuzz/README.md). Skipped without clang's fuzzer runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

function skipReason(): string | null {
  const r = spawnSync('clang', ['--print-runtime-dir'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'clang not installed';
  const dir = r.stdout.trim();
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.startsWith('libclang_rt.fuzzer'))) {
    return 'libFuzzer runtime missing (apt-get install libclang-rt-14-dev)';
  }
  return null;
}

const skip = skipReason();

test('libFuzzer: 20000 runs of the C frame/payload parser find no crash', { skip: skip ?? false }, () => {
  const fuzzDir = path.join(PACKAGE_ROOT, 'fuzz');
  execFileSync('make', ['-s', '-C', fuzzDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  // libFuzzer writes new inputs into its first corpus dir: a scratch dir, never the committed corpus.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-fuzz-'));
  const r = spawnSync(
    path.join(fuzzDir, 'out', 'fuzz_protocol'),
    ['-runs=20000', '-seed=1', '-max_len=8300', '-print_final_stats=1', scratch, path.join(fuzzDir, 'corpus')],
    { encoding: 'utf8', timeout: 120_000 },
  );
  fs.rmSync(scratch, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  const runs = Number(/stat::number_of_executed_units:\s+(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(runs >= 20000, `executed ${runs}`);
});
