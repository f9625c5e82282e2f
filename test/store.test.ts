import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, TemplateStore, staleTemplatesMessage } from '../src/store/store.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fg-store-'));
}

const A = { id: 'model-a', sha256: 'a'.repeat(64) };
const B = { id: 'model-b', sha256: 'b'.repeat(64) };

test('creates the directory 0700 and the database 0600, with WAL and the current schema', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'sub', 'facegate.db');
    const store = TemplateStore.open(file);
    store.close();
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
    // Re-opening is idempotent and tightens a loosened mode.
    fs.chmodSync(file, 0o644);
    TemplateStore.open(file).close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('adds, lists and removes faces; vectors round-trip exactly', () => {
  const dir = tmp();
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  try {
    const va = Float32Array.from([0.25, -1.5, 3.1415927, 1e-7]);
    const vb = Float32Array.from([1, 2, 3]);
    const f1 = store.addFace('alice', 'glasses', [{ ...A, vector: va }, { ...B, vector: vb }]);
    const f2 = store.addFace('alice', 'default', [{ ...A, vector: va }]);
    store.addFace('bob', 'default', [{ ...A, vector: vb.subarray(0, 2) }]);
    assert.deepEqual(f1.models, [A, B]);
    assert.deepEqual(store.listUsers(), [
      { user: 'alice', faces: 2, templates: 3 },
      { user: 'bob', faces: 1, templates: 1 },
    ]);
    assert.deepEqual(store.listFaces('alice').map((f) => [f.id, f.label]), [[f1.id, 'glasses'], [f2.id, 'default']]);
    const got = store.templatesFor('alice', [A, B]);
    assert.deepEqual(got.byModel.get('model-a'), [va, va]);
    assert.deepEqual(got.byModel.get('model-b'), [vb]);
    assert.deepEqual(got.stale, []);
    // Only models in use are returned.
    assert.equal(store.templatesFor('alice', [B]).byModel.has('model-a'), false);

    assert.equal(store.removeFace('bob', f1.id), false, "cannot remove another user's face");
    assert.equal(store.removeFace('alice', f1.id), true);
    assert.equal(store.templateCount('alice'), 1);
    assert.equal(store.removeUser('alice'), 1);
    assert.equal(store.templateCount('alice'), 0);
    assert.deepEqual(store.listUsers().map((u) => u.user), ['bob']);
    assert.equal(store.removeFace('bob', store.listFaces('bob')[0]!.id), true);
    assert.deepEqual(store.listUsers(), []);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('templates of another model version are refused as stale, with a re-enrol message', () => {
  const dir = tmp();
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  try {
    store.addFace('carol', 'x', [{ ...A, vector: Float32Array.from([1, 0]) }]);
    const upgraded = { id: A.id, sha256: 'c'.repeat(64) };
    const got = store.templatesFor('carol', [upgraded]);
    assert.equal(got.byModel.size, 0);
    assert.deepEqual(got.stale, [{ ...A, count: 1 }]);
    assert.match(staleTemplatesMessage('carol', got.stale), /another model version.*re-enrol with "facegate enroll carol"/);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input is refused before it reaches SQL', () => {
  const dir = tmp();
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  try {
    const v = [{ ...A, vector: Float32Array.from([1]) }];
    assert.throws(() => store.addFace("x'; DROP TABLE users; --", 'l', v), /invalid user name/);
    assert.throws(() => store.addFace('', 'l', v), /invalid user name/);
    assert.throws(() => store.addFace('ok', '', v), /label/);
    assert.throws(() => store.addFace('ok', 'a\nb', v), /label/);
    assert.throws(() => store.addFace('ok', 'l', []), /no templates/);
    assert.throws(() => store.addFace('ok', 'l', [{ ...A, vector: Float32Array.from([NaN]) }]), /finite/);
    assert.deepEqual(store.listUsers(), []);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer facegate is refused', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'f.db');
    TemplateStore.open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => TemplateStore.open(file), /newer than this facegate/);
    assert.throws(() => TemplateStore.open(path.join(dir, 'none.db'), { readonly: true }), /does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lockout counters: count, lock, expire on a fake clock, undo, clear', () => {
  const dir = tmp();
  let now = 5_000_000;
  try {
    const s = { attempts: 3, seconds: 100 };
    const store = TemplateStore.open(path.join(dir, 'f.db'), { now: () => now });
    const begin = () => store.lockout.begin('alice', s);
    const t1 = begin();
    assert.equal(t1.locked, false);
    now += 10;
    begin();
    now += 10;
    const t3 = begin();
    assert.deepEqual(store.lockout.state('alice', s), { failures: 3, updated: now });
    const locked = begin();
    assert.deepEqual(locked, { locked: true, until: now + 100_000 });
    assert.equal(store.lockout.state('bob', s), null, 'per user');
    // An attempt that compared no face is taken back, and the earlier failures keep their own age.
    assert.equal(t3.locked, false);
    if (!t3.locked) store.lockout.undo(t3.token);
    assert.deepEqual(store.lockout.state('alice', s), { failures: 2, updated: now - 10 });
    // A failure older than lockout.seconds no longer counts.
    now += 100_000;
    assert.equal(store.lockout.state('alice', s), null);
    assert.equal(begin().locked, false);
    assert.equal(store.lockout.state('alice', s)?.failures, 1);
    assert.equal(store.lockout.clear('alice'), true);
    assert.equal(store.lockout.clear('alice'), false);
    assert.throws(() => store.lockout.clear('../x'), /invalid user name/);
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a schema-1 database is migrated: templates kept, lockout table added', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'f.db');
    const store = TemplateStore.open(file);
    store.addFace('alice', 'default', [{ ...A, vector: Float32Array.from([1, 0]) }]);
    store.close();
    const db = new Database(file);
    db.exec('DROP TABLE lockout');
    db.pragma('user_version = 1');
    db.close();
    const again = TemplateStore.open(file);
    assert.equal(again.templateCount('alice'), 1);
    assert.equal(again.lockout.begin('alice', { attempts: 1, seconds: 60 }).locked, false);
    again.close();
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
