import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

function exitCode(args: string[]): number | null {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 }).status;
}

// README: "exit codes: ... 2 bad usage" for every command, including eval and bench (which define no handler of
// their own, so they rely on the program-wide one).
test('usage errors exit 2 for every command; help and version exit 0', () => {
  assert.equal(exitCode(['eval']), 2, 'eval without --dataset');
  assert.equal(exitCode(['eval', '--dataset', '/nonexistent', '--model', 'bogus']), 2, 'eval --model bogus');
  assert.equal(exitCode(['bench', '--bogus']), 2, 'bench --bogus');
  assert.equal(exitCode(['list', '--bogus']), 2, 'list --bogus');
  assert.equal(exitCode(['no-such-command']), 2, 'unknown command');
  assert.equal(exitCode(['--help']), 0);
  assert.equal(exitCode(['eval', '--help']), 0);
  assert.equal(exitCode(['--version']), 0);
});
