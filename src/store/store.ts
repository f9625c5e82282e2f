import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LockoutTable } from './lockout.js';
import { checkUserName } from './username.js';

/** The embedder a template was made with: templates only match live embeddings of the same network file. */
export interface ModelRef {
  readonly id: string;
  readonly sha256: string;
}

export interface NewTemplate extends ModelRef {
  readonly vector: Float32Array;
}

export interface FaceInfo {
  id: number;
  user: string;
  label: string;
  /** Unix milliseconds. */
  created: number;
  models: ModelRef[];
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
}

/** Ordered schema migrations; user_version is the number applied. Append, never edit. */
const MIGRATIONS: readonly string[] = [
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
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const LABEL_MAX = 64;

export function checkLabel(label: string): string {
  // eslint-disable-next-line no-control-regex
  if (label.length === 0 || label.length > LABEL_MAX || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new Error(`label must be 1-${LABEL_MAX} printable characters`);
  }
  return label;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Clock for the lockout counters (tests); Date.now by default. */
  now?: () => number;
}

/**
 * Enrolled faces in SQLite. The file is created 0600 in a 0700 directory (the daemon runs as root; tests use a
 * temp dir). Vectors are little-endian float32 BLOBs and never leave this module except to the matcher.
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
        migrate(db);
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

  /** Adds one face (one enrolment) with its templates, atomically. Returns the new face. */
  addFace(user: string, label: string, templates: readonly NewTemplate[]): FaceInfo {
    checkUserName(user);
    checkLabel(label);
    if (templates.length === 0) throw new Error('no templates to store');
    for (const t of templates) {
      if (t.vector.length === 0 || !t.vector.every(Number.isFinite)) throw new Error(`template for ${t.id} is not a finite vector`);
    }
    const now = Date.now();
    const tx = this.db.transaction((): number => {
      this.db.prepare('INSERT OR IGNORE INTO users(name, created) VALUES (?, ?)').run(user, now);
      const uid = (this.db.prepare('SELECT id FROM users WHERE name = ?').get(user) as { id: number }).id;
      const faceId = Number(this.db.prepare('INSERT INTO faces(user_id, label, created) VALUES (?, ?, ?)').run(uid, label, now).lastInsertRowid);
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
    const ids = this.db
      .prepare('SELECT f.id AS id FROM faces f JOIN users u ON u.id = f.user_id WHERE u.name = ? ORDER BY f.id')
      .all(user) as Array<{ id: number }>;
    return ids.map((r) => this.face(r.id)!);
  }

  private face(id: number): FaceInfo | undefined {
    const row = this.db
      .prepare('SELECT f.id AS id, u.name AS user, f.label AS label, f.created AS created FROM faces f JOIN users u ON u.id = f.user_id WHERE f.id = ?')
      .get(id) as { id: number; user: string; label: string; created: number } | undefined;
    if (!row) return undefined;
    const models = this.db
      .prepare('SELECT DISTINCT model_id AS id, model_sha256 AS sha256 FROM templates WHERE face_id = ? ORDER BY model_id')
      .all(id) as ModelRef[];
    return { id: row.id, user: row.user, label: row.label, created: row.created, models };
  }

  /** Removes one face of a user; false if the user has no face with that id. */
  removeFace(user: string, id: number): boolean {
    checkUserName(user);
    const tx = this.db.transaction((): boolean => {
      const res = this.db
        .prepare('DELETE FROM faces WHERE id = ? AND user_id = (SELECT id FROM users WHERE name = ?)')
        .run(id, user);
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
    this.db
      .prepare('DELETE FROM users WHERE name = ? AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.user_id = users.id)')
      .run(user);
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
  templatesFor(user: string, models: readonly ModelRef[]): TemplateLookup {
    checkUserName(user);
    const rows = this.db
      .prepare(
        `SELECT t.model_id AS id, t.model_sha256 AS sha256, t.dim AS dim, t.vector AS vector
         FROM templates t JOIN faces f ON f.id = t.face_id JOIN users u ON u.id = f.user_id
         WHERE u.name = ? ORDER BY t.id`,
      )
      .all(user) as Array<{ id: string; sha256: string; dim: number; vector: Buffer }>;
    const want = new Map(models.map((m) => [m.id, m.sha256]));
    const byModel = new Map<string, Float32Array[]>();
    const stale = new Map<string, ModelRef & { count: number }>();
    for (const r of rows) {
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
    return { byModel, stale: [...stale.values()] };
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

function migrate(db: Database): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > SCHEMA_VERSION) {
    throw new Error(`template database schema ${current} is newer than this facegate (${SCHEMA_VERSION}); upgrade facegate`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Creates the directory (0700) and an empty database file (0600) before SQLite opens it with its own umask. */
function prepareFile(file: string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.statSync(file);
  if (!st.isFile()) throw new Error(`template database ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
}
