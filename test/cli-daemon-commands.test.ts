// list, remove, status and doctor through the real CLI binary on a temp database (no models, no daemon needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { TemplateStore } from '../src/store/store.js';
import { replayConfigToml } from './helpers/daemon-harness.js';

const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, FACEGATE_CONFIG: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

function setup(): { dir: string; db: string; cfg: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cli-'));
  const cfg = path.join(dir, 'config.toml');
  fs.writeFileSync(cfg, '');
  const db = path.join(dir, 'f.db');
  const store = TemplateStore.open(db);
  const m = { id: 'm', sha256: 'a'.repeat(64) };
  store.addFace('alice', 'default', [{ ...m, vector: Float32Array.from([1, 0]) }], { uid: 1000 });
  store.addFace('alice', 'glasses', [{ ...m, vector: Float32Array.from([0, 1]) }], { uid: 1000 });
  store.addFace('bob', 'default', [{ ...m, vector: Float32Array.from([1, 1]) }], { uid: 1001 });
  store.close();
  return { dir, db, cfg };
}

test('list: users, one user, and options after the subcommand', async () => {
  const { dir, db, cfg } = setup();
  try {
    const all = await cli(['list', '--config', cfg, '--db', db, '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      JSON.parse(all.stdout).users.map((u: { user: string; faces: number }) => [u.user, u.faces]),
      [
        ['alice', 2],
        ['bob', 1],
      ],
    );
    const one = await cli(['list', 'alice', '--config', cfg, '--db', db, '--json']);
    assert.deepEqual(
      JSON.parse(one.stdout).faces.map((f: { label: string }) => f.label),
      ['default', 'glasses'],
    );
    const text = await cli(['list', '--config', cfg, '--db', db]);
    assert.match(text.stdout, /^alice\t2 faces/m);
    const bad = await cli(['list', 'no/such', '--config', cfg, '--db', db, '--json']);
    assert.equal(bad.code, 2);
    assert.match(JSON.parse(bad.stdout).error, /invalid user name/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('remove: one face, all faces, and the exit codes', async () => {
  const { dir, db, cfg } = setup();
  try {
    const id = JSON.parse((await cli(['list', 'alice', '--config', cfg, '--db', db, '--json'])).stdout).faces[0].id as number;
    assert.equal((await cli(['remove', 'alice', '--config', cfg, '--db', db])).code, 2, 'needs an ID or --all');
    assert.equal((await cli(['remove', 'alice', 'x1', '--config', cfg, '--db', db])).code, 2);
    assert.equal((await cli(['remove', 'bob', String(id), '--config', cfg, '--db', db])).code, 1, "not bob's face");
    const r = await cli(['remove', 'alice', String(id), '--config', cfg, '--db', db, '--json']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { user: 'alice', removed: 1, id });
    const all = await cli(['remove', 'alice', '--all', '--config', cfg, '--db', db, '--json']);
    assert.deepEqual([all.code, JSON.parse(all.stdout).removed], [0, 1]);
    assert.equal((await cli(['remove', 'alice', '--all', '--config', cfg, '--db', db])).code, 1, 'nothing left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unlock: clears a lockout counter (root only), and is idempotent', { skip: process.getuid?.() !== 0 && 'unlock is root only' }, async () => {
  const { dir, db, cfg } = setup();
  try {
    const settings = { attempts: 2, seconds: 600 };
    const store = TemplateStore.open(db);
    store.lockout.begin('alice', settings);
    store.lockout.begin('alice', settings);
    assert.equal(store.lockout.begin('alice', settings).locked, true);
    store.close();
    const r = await cli(['unlock', 'alice', '--config', cfg, '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { user: 'alice', cleared: true });
    const again = TemplateStore.open(db);
    assert.equal(again.lockout.state('alice', settings), null);
    assert.equal(again.lockout.begin('alice', settings).locked, false, 'face authentication is open again');
    again.close();
    const twice = await cli(['unlock', 'bob', '--config', cfg, '--db', db]);
    assert.equal(twice.code, 0);
    assert.match(twice.stdout, /bob has no failed face attempts/);
    assert.equal((await cli(['unlock', 'no/such', '--config', cfg, '--db', db])).code, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unlock refuses a non-root caller', { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as nobody' }, async () => {
  const { dir, db, cfg } = setup();
  try {
    fs.chmodSync(dir, 0o755);
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'unlock', 'alice', '--config', cfg, '--db', db, '--json'],
        (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout }),
      );
    });
    assert.equal(r.code, 3);
    assert.match(JSON.parse(r.stdout).error, /only root may unlock/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('status without a daemon exits 3 and still lists the enrolled users', async () => {
  const { dir, db, cfg } = setup();
  try {
    const r = await cli(['status', '--config', cfg, '--db', db, '--socket', path.join(dir, 'none.sock'), '--json']);
    assert.equal(r.code, 3);
    const j = JSON.parse(r.stdout);
    assert.equal(j.daemon.accepting, false);
    assert.deepEqual(
      j.users.map((u: { user: string }) => u.user),
      ['alice', 'bob'],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor reports each check, fails on a bad config and a world-readable database', async () => {
  const { dir, db, cfg } = setup();
  try {
    fs.writeFileSync(cfg, '[verify]\nframes_neded = 2\n');
    const bad = await cli(['doctor', '--config', cfg, '--db', db, '--json']);
    assert.equal(bad.code, 2, 'a bad config is exit 2, as README promises');
    const checks = JSON.parse(bad.stdout).checks as Array<{ name: string; status: string; detail: string }>;
    assert.match(checks.find((c) => c.name === 'config')!.detail, /verify\.frames_neded: unknown key/);
    fs.writeFileSync(cfg, replayConfigToml());
    fs.chmodSync(db, 0o644);
    const r = await cli(['doctor', '--config', cfg, '--db', db, '--camera', `replay:${path.join(dir, 'nope')}`, '--json']);
    const byName = Object.fromEntries((JSON.parse(r.stdout).checks as Array<{ name: string; status: string }>).map((c) => [c.name, c.status]));
    assert.equal(byName.config, 'ok');
    assert.equal(byName.database, 'fail');
    assert.equal(byName.camera, 'fail');
    assert.equal(r.code, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor: liveness on with its calibration, and a warning when the config turns it off', async () => {
  const { dir, db, cfg } = setup();
  try {
    const cam = path.join(dir, 'cam');
    fs.mkdirSync(cam);
    fs.writeFileSync(path.join(cam, '0.pgm'), Buffer.concat([Buffer.from('P5\n8 8\n255\n'), Buffer.alloc(64, 100)]));
    fs.writeFileSync(cfg, '[camera]\nallow_replay = true\n');
    const on = await cli(['doctor', '--config', cfg, '--db', db, '--camera', `replay:${cam}`, '--json']);
    const checks = JSON.parse(on.stdout).checks as Array<{ name: string; status: string; detail: string }>;
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    assert.equal(byName.liveness?.status, 'ok', byName.liveness?.detail);
    assert.match(byName['liveness tier']!.detail, /replay camera/);
    fs.writeFileSync(cfg, '[camera]\nallow_replay = true\n[liveness]\nenabled = false\n');
    const off = await cli(['doctor', '--config', cfg, '--db', db, '--camera', `replay:${cam}`, '--json']);
    const l = (JSON.parse(off.stdout).checks as Array<{ name: string; status: string; detail: string }>).find((c) => c.name === 'liveness')!;
    assert.equal(l.status, 'warn');
    assert.match(l.detail, /photo .* unlocks/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2', async () => {
  assert.equal((await cli(['list', '--bogus'])).code, 2);
  assert.equal((await cli(['enroll'])).code, 2);
});
