import type Database from 'better-sqlite3';
import { checkUserName } from './username.js';

/** `[lockout]` of the config: how many failed attempts lock a user out, and for how long. */
export interface LockoutSettings {
  attempts: number;
  seconds: number;
}

export type BeginResult = { locked: true; until: number } | { locked: false; token: AttemptToken };

/** What `begin` changed, so an attempt that never compared a face can be taken back exactly. */
export interface AttemptToken {
  readonly user: string;
  readonly at: number;
  readonly previous: number | null;
}

export interface LockoutState {
  failures: number;
  /** Unix ms of the last counted attempt. */
  updated: number;
}

/**
 * Consecutive failed face attempts per user, in the template database so a restart does not forget them
 * (docs/lockout.md). An attempt is counted as failed when it starts, and taken back only if it ends in `allow`
 * (which clears the count) or without any face compared: so a client that hangs up just before its `deny`, a
 * daemon killed mid-attempt, or parallel requests cannot get more tries than `attempts`.
 */
export class LockoutTable {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  private row(user: string): LockoutState | undefined {
    const r = this.db.prepare('SELECT failures, updated FROM lockout WHERE user = ?').get(user) as LockoutState | undefined;
    return r ? { failures: Number(r.failures), updated: Number(r.updated) } : undefined;
  }

  /** The user's current count, with expired counts already dropped (status, tests). */
  state(user: string, s: LockoutSettings): LockoutState | null {
    checkUserName(user);
    const r = this.row(user);
    if (!r || this.now() - r.updated >= s.seconds * 1000) return null;
    return r;
  }

  /** Refuses while locked out; otherwise counts the attempt as a failure until `succeeded` or `undo`. */
  begin(user: string, s: LockoutSettings): BeginResult {
    checkUserName(user);
    const tx = this.db.transaction((): BeginResult => {
      const now = this.now();
      let r = this.row(user);
      // A failure older than lockout.seconds no longer counts, and a lockout ends after it.
      if (r && now - r.updated >= s.seconds * 1000) r = undefined;
      if (r && r.failures >= s.attempts) return { locked: true, until: r.updated + s.seconds * 1000 };
      this.db
        .prepare(
          'INSERT INTO lockout(user, failures, updated) VALUES (?, ?, ?) ON CONFLICT(user) DO UPDATE SET failures = excluded.failures, updated = excluded.updated',
        )
        .run(user, (r?.failures ?? 0) + 1, now);
      return { locked: false, token: { user, at: now, previous: r ? r.updated : null } };
    });
    return tx();
  }

  /** The attempt ended without comparing a face (no face, camera error, busy): it does not count. */
  undo(t: AttemptToken): void {
    const tx = this.db.transaction(() => {
      const r = this.row(t.user);
      if (!r) return;
      if (r.failures <= 1) {
        this.db.prepare('DELETE FROM lockout WHERE user = ?').run(t.user);
        return;
      }
      // Give the earlier failures their own age back unless another attempt counted since.
      const updated = r.updated === t.at && t.previous !== null ? t.previous : r.updated;
      this.db.prepare('UPDATE lockout SET failures = ?, updated = ? WHERE user = ?').run(r.failures - 1, updated, t.user);
    });
    tx();
  }

  /** The face matched, a password succeeded, or root unlocked the user: the count starts again. */
  clear(user: string): boolean {
    checkUserName(user);
    return this.db.prepare('DELETE FROM lockout WHERE user = ?').run(user).changes > 0;
  }
}
