#!/usr/bin/env node
// `npm test`: runs every compiled test file with Node's runner. An explicit file list (not a folder argument,
// which Node 22+ reads as a file), the same on Node 20, 22 and 24. Under CI=true a TAP copy of the run goes
// to .ci/check-skips.mjs, so a skipped test fails CI unless it is on that file's allowlist.
// Extra arguments are test files to run instead of all of them, e.g. `npm test -- dist/test/config.test.js`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testDir = path.join(root, 'dist', 'test');
let files = process.argv.slice(2);
if (files.length === 0) {
  files = fs.existsSync(testDir)
    ? fs
        .readdirSync(testDir)
        .filter((f) => f.endsWith('.test.js'))
        .sort()
        .map((f) => path.join('dist', 'test', f))
    : [];
}
if (files.length === 0) {
  console.error('run-tests: no compiled tests in dist/test (run `npm run build` first)');
  process.exit(1);
}
const ci = process.env.CI === 'true';
const tap = ci ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-tests-')), 'results.tap') : null;
const reporters = tap ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`] : [];
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporters, ...files], { cwd: root, stdio: 'inherit' });
let code = run.status ?? 1;
if (tap) {
  const check = spawnSync(process.execPath, [path.join(root, '.ci', 'check-skips.mjs'), tap], { cwd: root, stdio: 'inherit' });
  if (code === 0) code = check.status ?? 1;
  fs.rmSync(path.dirname(tap), { recursive: true, force: true });
}
process.exit(code);
