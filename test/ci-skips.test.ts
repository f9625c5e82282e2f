import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

const CHECK = path.join(PACKAGE_ROOT, '.ci', 'check-skips.mjs');

function check(tap: string): { status: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-skips-'));
  try {
    const file = path.join(dir, 'r.tap');
    fs.writeFileSync(file, tap);
    const r = spawnSync(process.execPath, [CHECK, file], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('under CI a skip fails the run unless the allowlist names the test and its reason', () => {
  const allowed = 'ok 1 - facegate eval on 3 ORL people × 3 images (--cropped) with a corrupt file # SKIP needs the full orl set: /x/orl is absent\n';
  assert.equal(check(`TAP version 13\n${allowed}ok 2 - passes\n`).status, 0);
  const nested = "    ok 7 - the enrolled user's other images: PAM_SUCCESS # SKIP models not built\n";
  const r = check(`TAP version 13\n${allowed}${nested}`);
  assert.equal(r.status, 1);
  assert.match(r.out, /the enrolled user's other images: PAM_SUCCESS: models not built/);
  // An allowed test skipped for another reason is not allowed.
  assert.equal(check('ok 1 - facegate eval on 3 ORL people × 3 images # SKIP models absent\n').status, 1);
});
