import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LockoutTable } from './lockout.js';
import { checkUserName } from './username.js';
import { uidOfUserName } from '../daemon/peercred.js';
import { sameCamera, type CameraIdentity } from '../camera/identity.js';

/** The embedder a template was made with: templates only match live embeddings of the same network file. */
export interface ModelRef {
  readonly id: string;
  readonly sha256: string;
}

export interface NewTemplate extends ModelRef {
  readonly vector: Float32Array;
}

export type { CameraIdentity };

/** Who a face belongs to and where it was taken, fixed at enrolment. */
export interface FaceOwner {
  /** The account's uid at enrolment: a later account reusing the name does not match (issue 7). */
  readonly uid: number;
  readonly camera?: CameraIdentity;
}

export interface FaceInfo {
  id: number;
  user: string;
  /** null for faces migrated from schema 1 whose user no longer resolved. */
  uid: number | null;
  label: string;
  /** Unix milliseconds. */
  created: number;
  models: ModelRef[];
  /** null when enrolled before facegate recorded cameras. */
  camera: CameraIdentity | null;
}

export interface UserSummary {
  user: string;
  faces: number;
  templates: number;
}

/** Templates grouped by embedder for the models in use, plus those made by other model versions. */
export interface TemplateLookup {
  byModel: Map<string, Float32Array[]>;
  stale: Array<ModelRef & { count: number }>;
  /** Templates left out because they belong to another uid than the account's current one (or to none). */
  otherAccount: number;
  /** Templates left out because they were enrolled with another camera. */
  otherCamera: number;
}

/** Which templates a lookup may return; omitted fields do not filter. */
export interface TemplateFilter {
  /** The uid the name resolves to now; templates of another (or no recorded) uid are left out. */
  uid?: number;
  /** The camera in use; faces enrolled with another camera are left out (faces with none recorded are kept). */
  camera?: CameraIdentity;
}

/** A schema step: SQL, or code for what SQL cannot do (asking NSS for uids). */
type Migration = string | ((db: Database, ctx: MigrationContext) => void);

interface MigrationContext {
  resolveUid: (name: string) => number | null;
}

/** Ordered schema migrations; user_version is the number applied. Append, never edit. */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     created INTEGER NOT NULL
   );
   CREATE TABLE faces (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     label TEXT NOT NULL,
     created INTEGER NOT NULL
   );
   CREATE INDEX faces_user ON faces(user_id);
   CREATE TABLE templates (
     id INTEGER PRIMARY KEY,
     face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
     model_id TEXT NOT NULL,
     model_sha256 TEXT NOT NULL,
     dim INTEGER NOT NULL CHECK (dim > 0),
     vector BLOB NOT NULL CHECK (length(vector) = dim * 4)
   );
   CREATE INDEX templates_face ON templates(face_id);`,
  // Lockout counters (src/store/lockout.ts); keyed by login name like the templates.
  `CREATE TABLE lockout (
     user TEXT PRIMARY KEY,
     failures INTEGER NOT NULL CHECK (failures >= 0),
     updated INTEGER NOT NULL
   );`,
  // 3: faces are bound to the account's uid (a re-used name must not inherit them) and to the camera used.
  (db, { resolveUid }) => {
    db.exec(`ALTER TABLE users ADD COLUMN uid INTEGER CHECK (uid IS NULL OR uid >= 0);
             ALTER TABLE faces ADD COLUMN camera TEXT;`);
    // The best binding there is for old rows: the account holding the name when facegate is upgraded. A name that
    // resolves to nobody keeps uid NULL, and its faces are never matched again (re-enrol).
    const set = db.prepare('UPDATE users SET uid = ? WHERE id = ?');
    for (const row of db.prepare('SELECT id, name FROM users').all() as Array<{ id: number; name: string }>) {
      set.run(resolveUid(row.name), row.id);
    }
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const LABEL_MAX = 64;

export function checkLabel(label: string): string {
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects or escapes
  if (label.length === 0 || label.length > LABEL_MAX || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new Error(`label must be 1-${LABEL_MAX} printable characters`);
  }
  return label;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Name to uid, for migrating schema 1 (default: NSS through the peercred addon). */
  resolveUid?: (name: string) => number | null;
  /** Clock for the lockout counters (tests); Date.now by default. */
  now?: () => number;
}

/**
 * Enrolled faces in SQLite. The file is created 0600 in a 0700 directory owned by facegated's user (`facegate`;
 * tests use a temp dir). Vectors are little-endian float32 BLOBs and never leave this module except to the matcher.
 */
export class TemplateStore {
  /** Failed-attempt counters per user (docs/lockout.md). */
  readonly lockout: LockoutTable;

  private constructor(
    private readonly db: Database,
    readonly file: string,
    now: () => number,
  ) {
    this.lockout = new LockoutTable(db, now);
  }

  static open(file: string, opts: OpenOptions = {}): TemplateStore {
    if (!opts.readonly) prepareFile(file);
    else if (!fs.existsSync(file)) throw new Error(`template database ${file} does not exist (nothing enrolled yet)`);
    const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: true, timeout: 2000 });
    try {
      db.pragma('foreign_keys = ON');
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrate(db, { resolveUid: opts.resolveUid ?? uidOfUserName });
      } else {
        const version = db.pragma('user_version', { simple: true });
        if (version !== SCHEMA_VERSION) {
          throw new Error(`template database ${file} has schema ${String(version)}, expected ${SCHEMA_VERSION}`);
        }
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new TemplateStore(db, file, opts.now ?? Date.now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Adds one face (one enrolment) with its templates, atomically: a crash mid-way leaves no part of it (SQLite's
   * WAL commit). Returns the new face. A name re-used by a new uid loses the old account's faces first.
   */
  addFace(user: string, label: string, templates: readonly NewTemplate[], owner: FaceOwner): FaceInfo {
    checkUserName(user);
    checkLabel(label);
    if (!Number.isInteger(owner.uid) || owner.uid < 0 || owner.uid > 0xffffffff) throw new Error(`bad uid ${owner.uid}`);
    if (templates.length === 0) throw new Error('no templates to store');
    for (const t of templates) {
      if (t.vector.length === 0 || !t.vector.every(Number.isFinite)) throw new Error(`template for ${t.id} is not a finite vector`);
    }
    const now = Date.now();
    const camera = owner.camera ? JSON.stringify(cameraIdentity(owner.camera)) : null;
    const tx = this.db.transaction((): number => {
      const prev = this.db.prepare('SELECT id, uid FROM users WHERE name = ?').get(user) as { id: number; uid: number | null } | undefined;
      if (prev && prev.uid !== owner.uid) {
        // The faces of a deleted account that had this name: they must never unlock the new one.
        this.db.prepare('DELETE FROM faces WHERE user_id = ?').run(prev.id);
        this.db.prepare('UPDATE users SET uid = ? WHERE id = ?').run(owner.uid, prev.id);
      }
      this.db.prepare('INSERT OR IGNORE INTO users(name, uid, created) VALUES (?, ?, ?)').run(user, owner.uid, now);
      const userId = (this.db.prepare('SELECT id FROM users WHERE name = ?').get(user) as { id: number }).id;
      const faceId = Number(
        this.db.prepare('INSERT INTO faces(user_id, label, created, camera) VALUES (?, ?, ?, ?)').run(userId, label, now, camera).lastInsertRowid,
      );
      const ins = this.db.prepare('INSERT INTO templates(face_id, model_id, model_sha256, dim, vector) VALUES (?, ?, ?, ?, ?)');
      for (const t of templates) ins.run(faceId, t.id, t.sha256, t.vector.length, vectorToBlob(t.vector));
      return faceId;
    });
    const id = tx();
    return this.face(id)!;
  }

  listUsers(): UserSummary[] {
    const rows = this.db
      .prepare(
        `SELECT u.name AS user, COUNT(DISTINCT f.id) AS faces, COUNT(t.id) AS templates
         FROM users u LEFT JOIN faces f ON f.user_id = u.id LEFT JOIN templates t ON t.face_id = f.id
         GROUP BY u.id HAVING faces > 0 ORDER BY u.name`,
      )
      .all() as UserSummary[];
    return rows.map((r) => ({ user: String(r.user), faces: Number(r.faces), templates: Number(r.templates) }));
  }

  listFaces(user: string): FaceInfo[] {
    checkUserName(user);
    const ids = this.db.prepare('SELECT f.id AS id FROM faces f JOIN users u ON u.id = f.user_id WHERE u.name = ? ORDER BY f.id').all(user) as Array<{
      id: number;
    }>;
    return ids.map((r) => this.face(r.id)!);
  }

  private face(id: number): FaceInfo | undefined {
    const row = this.db
      .prepare(
        'SELECT f.id AS id, u.name AS user, u.uid AS uid, f.label AS label, f.created AS created, f.camera AS camera FROM faces f JOIN users u ON u.id = f.user_id WHERE f.id = ?',
      )
      .get(id) as { id: number; user: string; uid: number | null; label: string; created: number; camera: string | null } | undefined;
    if (!row) return undefined;
    const models = this.db
      .prepare('SELECT DISTINCT model_id AS id, model_sha256 AS sha256 FROM templates WHERE face_id = ? ORDER BY model_id')
      .all(id) as ModelRef[];
    return { id: row.id, user: row.user, uid: row.uid, label: row.label, created: row.created, models, camera: parseCamera(row.camera) };
  }

  /** Removes one face of a user; false if the user has no face with that id. */
  removeFace(user: string, id: number): boolean {
    checkUserName(user);
    const tx = this.db.transaction((): boolean => {
      const res = this.db.prepare('DELETE FROM faces WHERE id = ? AND user_id = (SELECT id FROM users WHERE name = ?)').run(id, user);
      this.dropEmptyUser(user);
      return res.changes > 0;
    });
    return tx();
  }

  /** Removes every face of a user; returns how many were removed. */
  removeUser(user: string): number {
    checkUserName(user);
    const tx = this.db.transaction((): number => {
      const res = this.db.prepare('DELETE FROM faces WHERE user_id = (SELECT id FROM users WHERE name = ?)').run(user);
      this.db.prepare('DELETE FROM users WHERE name = ?').run(user);
      return res.changes;
    });
    return tx();
  }

  private dropEmptyUser(user: string): void {
    this.db.prepare('DELETE FROM users WHERE name = ? AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.user_id = users.id)').run(user);
  }

  /** Number of templates the user has, of any model. */
  templateCount(user: string): number {
    checkUserName(user);
    const row = this.db
      .prepare('SELECT COUNT(*) AS n FROM templates t JOIN faces f ON f.id = t.face_id JOIN users u ON u.id = f.user_id WHERE u.name = ?')
      .get(user) as { n: number };
    return Number(row.n);
  }

  /**
   * The user's templates for the models in use. Templates whose model id is in use but whose checksum differs
   * were made by another version of that network: they are returned as `stale`, never matched.
   */
  templatesFor(user: string, models: readonly ModelRef[], filter: TemplateFilter = {}): TemplateLookup {
    checkUserName(user);
    const rows = this.db
      .prepare(
        `SELECT t.model_id AS id, t.model_sha256 AS sha256, t.dim AS dim, t.vector AS vector, u.uid AS uid, f.camera AS camera
         FROM templates t JOIN faces f ON f.id = t.face_id JOIN users u ON u.id = f.user_id
         WHERE u.name = ? ORDER BY t.id`,
      )
      .all(user) as Array<{ id: string; sha256: string; dim: number; vector: Buffer; uid: number | null; camera: string | null }>;
    const want = new Map(models.map((m) => [m.id, m.sha256]));
    const byModel = new Map<string, Float32Array[]>();
    const stale = new Map<string, ModelRef & { count: number }>();
    let otherAccount = 0;
    let otherCamera = 0;
    for (const r of rows) {
      if (filter.uid !== undefined && r.uid !== filter.uid) {
        otherAccount++;
        continue;
      }
      if (filter.camera && r.camera !== null) {
        const enrolled = parseCamera(r.camera);
        if (!enrolled || !sameCamera(enrolled, filter.camera)) {
          otherCamera++;
          continue;
        }
      }
      const sha = want.get(r.id);
      if (sha === undefined) continue;
      if (sha !== r.sha256) {
        const key = `${r.id}\0${r.sha256}`;
        const s = stale.get(key) ?? { id: r.id, sha256: r.sha256, count: 0 };
        s.count++;
        stale.set(key, s);
        continue;
      }
      const list = byModel.get(r.id) ?? [];
      list.push(blobToVector(r.vector, r.dim));
      byModel.set(r.id, list);
    }
    return { byModel, stale: [...stale.values()], otherAccount, otherCamera };
  }

  /** The uid the user's faces are bound to (null: none recorded, or no such user). */
  boundUid(user: string): number | null {
    checkUserName(user);
    const row = this.db.prepare('SELECT uid FROM users WHERE name = ?').get(user) as { uid: number | null } | undefined;
    return row?.uid ?? null;
  }

  /** Every distinct camera recorded at enrolment, with how many faces each (for `facegate doctor`). */
  enrolledCameras(): Array<{ camera: CameraIdentity | null; faces: number }> {
    const rows = this.db.prepare('SELECT camera, COUNT(*) AS n FROM faces GROUP BY camera ORDER BY camera').all() as Array<{
      camera: string | null;
      n: number;
    }>;
    return rows.map((r) => ({ camera: parseCamera(r.camera), faces: Number(r.n) }));
  }

  /** SQLite's own consistency check ("ok" when sound); `facegate doctor` runs it. */
  integrityCheck(): string {
    const rows = this.db.pragma('quick_check') as Array<Record<string, unknown>>;
    return rows.map((r) => String(Object.values(r)[0])).join('; ');
  }
}

/** Only the identifying fields, in a fixed order, so equal identities serialise equally. */
function cameraIdentity(c: CameraIdentity): CameraIdentity {
  return { driver: c.driver, card: c.card, bus: c.bus, ...(c.serial ? { serial: c.serial } : {}) };
}

function parseCamera(text: string | null): CameraIdentity | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.driver !== 'string' || typeof v.card !== 'string' || typeof v.bus !== 'string') return null;
    if (v.serial !== undefined && typeof v.serial !== 'string') return null;
    return cameraIdentity(v as unknown as CameraIdentity);
  } catch {
    return null;
  }
}

/** The message a user sees when the templates exist but were made by another model version. */
export function staleTemplatesMessage(user: string, stale: ReadonlyArray<ModelRef & { count: number }>): string {
  const which = stale.map((s) => `${s.id} ${s.sha256.slice(0, 12)}`).join(', ');
  return `the face templates of ${user} were made by another model version (${which}); re-enrol with "facegate enroll ${user}"`;
}

function vectorToBlob(v: Float32Array): Buffer {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf;
}

function blobToVector(blob: Buffer, dim: number): Float32Array {
  if (!Buffer.isBuffer(blob) || blob.length !== dim * 4) throw new Error('corrupt template row (vector length)');
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = blob.readFloatLE(i * 4);
  return v;
}

function migrate(db: Database, ctx: MigrationContext): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > SCHEMA_VERSION) {
    throw new Error(`template database schema ${current} is newer than this facegate (${SCHEMA_VERSION}); upgrade facegate`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v]!;
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db, ctx);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * Creates the directory (0700) and an empty database file (0600) before SQLite opens it with its own umask. When
 * root (the CLI: enrol, remove) works on a database in a directory another user owns (facegated's state directory,
 * owned by the `facegate` user), the files are handed to that owner so the unprivileged daemon can still open them;
 * SQLite gives the -wal and -shm files it creates as root the database file's owner. Every file is opened with
 * O_NOFOLLOW and changed through its descriptor, so a symlink planted in the directory cannot redirect a chown.
 */
function prepareFile(file: string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW } = fs.constants;
  try {
    fs.closeSync(fs.openSync(file, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = process.getuid?.() === 0 ? fs.statSync(dir) : null;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let fd: number;
    try {
      fd = fs.openSync(f, O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && f !== file) continue;
      if (code === 'ELOOP') throw new Error(`template database ${f} is a symbolic link; refusing it`);
      throw err;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error(`template database ${f} is not a regular file`);
      if ((st.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
      if (owner && (st.uid !== owner.uid || st.gid !== owner.gid)) fs.fchownSync(fd, owner.uid, owner.gid);
    } finally {
      fs.closeSync(fd);
    }
  }
}
