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
    const va = Float32Array.from([0.25, -1.5, Math.PI, 1e-7]);
    const vb = Float32Array.from([1, 2, 3]);
    const f1 = store.addFace(
      'alice',
      'glasses',
      [
        { ...A, vector: va },
        { ...B, vector: vb },
      ],
      { uid: 1000 },
    );
    const f2 = store.addFace('alice', 'default', [{ ...A, vector: va }], { uid: 1000 });
    store.addFace('bob', 'default', [{ ...A, vector: vb.subarray(0, 2) }], { uid: 1001 });
    assert.deepEqual(f1.models, [A, B]);
    assert.deepEqual(store.listUsers(), [
      { user: 'alice', faces: 2, templates: 3 },
      { user: 'bob', faces: 1, templates: 1 },
    ]);
    assert.deepEqual(
      store.listFaces('alice').map((f) => [f.id, f.label]),
      [
        [f1.id, 'glasses'],
        [f2.id, 'default'],
      ],
    );
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
    assert.deepEqual(
      store.listUsers().map((u) => u.user),
      ['bob'],
    );
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
    store.addFace('carol', 'x', [{ ...A, vector: Float32Array.from([1, 0]) }], { uid: 1002 });
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
    assert.throws(() => store.addFace("x'; DROP TABLE users; --", 'l', v, { uid: 1 }), /invalid user name/);
    assert.throws(() => store.addFace('', 'l', v, { uid: 1 }), /invalid user name/);
    assert.throws(() => store.addFace('ok', '', v, { uid: 1 }), /label/);
    assert.throws(() => store.addFace('ok', 'a\nb', v, { uid: 1 }), /label/);
    assert.throws(() => store.addFace('ok', 'l', [], { uid: 1 }), /no templates/);
    assert.throws(() => store.addFace('ok', 'l', [{ ...A, vector: Float32Array.from([NaN]) }], { uid: 1 }), /finite/);
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

/** The schema-1 database facegate wrote before faces were bound to a uid and a camera. */
function schema1(file: string): void {
  const db = new Database(file);
  db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
    CREATE TABLE faces (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, label TEXT NOT NULL, created INTEGER NOT NULL);
    CREATE INDEX faces_user ON faces(user_id);
    CREATE TABLE templates (id INTEGER PRIMARY KEY, face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE, model_id TEXT NOT NULL,
      model_sha256 TEXT NOT NULL, dim INTEGER NOT NULL CHECK (dim > 0), vector BLOB NOT NULL CHECK (length(vector) = dim * 4));
    CREATE INDEX templates_face ON templates(face_id);
    INSERT INTO users(id, name, created) VALUES (1, 'alice', 1), (2, 'gone', 1);
    INSERT INTO faces(id, user_id, label, created) VALUES (1, 1, 'default', 1), (2, 2, 'default', 1);
    INSERT INTO templates(face_id, model_id, model_sha256, dim, vector) VALUES
      (1, 'model-a', '${'a'.repeat(64)}', 2, X'0000803F00000000'), (2, 'model-a', '${'a'.repeat(64)}', 2, X'000000000000803F');
    PRAGMA user_version = 1;`);
  db.close();
}

test('migrates a schema-1 database: templates kept, lockout table added, users bound to the uid their name has now; a vanished user matches no one', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'old.db');
    schema1(file);
    const store = TemplateStore.open(file, { resolveUid: (name) => (name === 'alice' ? 1000 : null) });
    try {
      assert.equal(store.boundUid('alice'), 1000);
      assert.equal(store.boundUid('gone'), null);
      const alice = store.templatesFor('alice', [A], { uid: 1000 });
      assert.deepEqual([...alice.byModel.get('model-a')![0]!], [1, 0], 'the old template survives the migration');
      // A new account that took the name "gone" (any uid) gets nothing from the old one.
      const gone = store.templatesFor('gone', [A], { uid: 1001 });
      assert.equal(gone.byModel.size, 0);
      assert.equal(gone.otherAccount, 1);
      assert.deepEqual(
        store.listFaces('alice').map((f) => [f.uid, f.camera]),
        [[1000, null]],
      );
      // The lockout table (schema 2) came along on the way.
      assert.equal(store.lockout.begin('alice', { attempts: 1, seconds: 60 }).locked, false);
    } finally {
      store.close();
    }
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('faces are bound to the uid: another uid under the same name sees none, and re-enrolling it drops the old faces', () => {
  const dir = tmp();
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  try {
    const v = Float32Array.from([1, 0]);
    store.addFace('alice', 'default', [{ ...A, vector: v }], { uid: 1000 });
    assert.equal(store.templatesFor('alice', [A], { uid: 1000 }).byModel.size, 1);
    const other = store.templatesFor('alice', [A], { uid: 1005 });
    assert.deepEqual([other.byModel.size, other.otherAccount], [0, 1]);
    // The account was deleted and the name given to uid 1005, which enrols: the old face is gone for good.
    store.addFace('alice', 'new', [{ ...A, vector: Float32Array.from([0, 1]) }], { uid: 1005 });
    assert.deepEqual(
      store.listFaces('alice').map((f) => [f.label, f.uid]),
      [['new', 1005]],
    );
    assert.equal(store.templatesFor('alice', [A], { uid: 1000 }).byModel.size, 0);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('faces remember their camera; a lookup for another camera leaves them out, faces without one stay usable', () => {
  const dir = tmp();
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  try {
    const ir = { driver: 'uvcvideo', card: 'Integrated IR Camera', bus: 'usb-0000:00:14.0-5', serial: '0001' };
    store.addFace('alice', 'ir', [{ ...A, vector: Float32Array.from([1, 0]) }], { uid: 1000, camera: ir });
    assert.deepEqual(store.listFaces('alice')[0]!.camera, ir);
    assert.equal(store.templatesFor('alice', [A], { uid: 1000, camera: { ...ir } }).byModel.size, 1);
    const loop = store.templatesFor('alice', [A], {
      uid: 1000,
      camera: { driver: 'v4l2 loopback', card: 'Integrated IR Camera', bus: 'platform:v4l2loopback-000' },
    });
    assert.deepEqual([loop.byModel.size, loop.otherCamera], [0, 1]);
    const swapped = store.templatesFor('alice', [A], { uid: 1000, camera: { ...ir, serial: '0002' } });
    assert.equal(swapped.otherCamera, 1, 'same model, another serial number');
    assert.deepEqual(store.enrolledCameras(), [{ camera: ir, faces: 1 }]);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('root writing into a directory another user owns hands the database to that user; symlinks are refused', {
  skip: process.getuid?.() !== 0 && 'needs root',
}, () => {
  const dir = tmp();
  try {
    const state = path.join(dir, 'state');
    fs.mkdirSync(state, { mode: 0o700 });
    fs.chownSync(state, 65534, 65534);
    const file = path.join(state, 'facegate.db');
    const store = TemplateStore.open(file);
    store.addFace('alice', 'default', [{ ...A, vector: Float32Array.from([1, 0]) }], { uid: 1000 });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      const st = fs.statSync(f);
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600], f);
    }
    store.close();
    const link = path.join(state, 'link.db');
    fs.symlinkSync('/etc/hostname', link);
    assert.throws(() => TemplateStore.open(link), /symbolic link|ELOOP/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
