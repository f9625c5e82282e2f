import { uidOfUserNameAsync, userNameOfUidAsync } from './peercred.js';

/** passwd look-ups as the request path needs them: never blocking the event loop. */
export interface UserLookup {
  /** Login name of a uid, or null if it has none. */
  nameOf(uid: number): Promise<string | null>;
  /** uid of a login name, or null if there is no such user. */
  uidOf(name: string): Promise<number | null>;
}

export class UserLookupError extends Error {
  constructor(
    readonly code: 'timeout' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

export interface UserDirectoryOptions {
  /** How long an answer is reused. Short, so a deleted and re-created account is seen soon (see docs/daemon.md). */
  ttlMs?: number;
  /** How long "no such user" is reused (a user being created right now should not wait long). */
  negativeTtlMs?: number;
  /** NSS calls running at once; they run on the libuv pool, which file I/O shares. */
  maxInFlight?: number;
  /** A caller stops waiting after this long (the NSS call itself cannot be cancelled and keeps its slot). */
  timeoutMs?: number;
  /** Entries kept per direction. */
  capacity?: number;
  /** The raw look-ups (tests inject slow or failing ones). */
  source?: UserLookup;
}

interface Entry<V> {
  value: V;
  expires: number;
}

const NATIVE: UserLookup = { nameOf: userNameOfUidAsync, uidOf: uidOfUserNameAsync };

/**
 * Cached, asynchronous, bounded passwd look-ups. Without it every request ran getpwuid_r on the event loop, so one
 * slow LDAP/sssd answer stalled every client (issue 7). Concurrent look-ups of the same key share one NSS call;
 * at most `maxInFlight` NSS calls run at once and the rest wait their turn, so a hung NSS source costs a few pool
 * threads, never all of them.
 */
export class UserDirectory implements UserLookup {
  private readonly names = new Map<number, Entry<string | null>>();
  private readonly uids = new Map<string, Entry<number | null>>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly capacity: number;
  private readonly source: UserLookup;
  /** NSS calls made (tests check that the cache works). */
  calls = 0;

  constructor(opts: UserDirectoryOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.capacity = opts.capacity ?? 4096;
    this.source = opts.source ?? NATIVE;
  }

  nameOf(uid: number): Promise<string | null> {
    return this.cached(this.names, uid, `u${uid}`, () => this.source.nameOf(uid));
  }

  uidOf(name: string): Promise<number | null> {
    return this.cached(this.uids, name, `n${name}`, () => this.source.uidOf(name));
  }

  private cached<K, V>(map: Map<K, Entry<V | null>>, key: K, pendingKey: string, fetch: () => Promise<V | null>): Promise<V | null> {
    const hit = map.get(key);
    if (hit && hit.expires > Date.now()) return Promise.resolve(hit.value);
    let p = this.pending.get(pendingKey) as Promise<V | null> | undefined;
    if (!p) {
      p = this.limited(fetch).then((value) => {
        map.delete(key);
        map.set(key, { value, expires: Date.now() + (value === null ? this.negativeTtlMs : this.ttlMs) });
        // Map keeps insertion order: the first key is the oldest.
        while (map.size > this.capacity) map.delete(map.keys().next().value as K);
        return value;
      });
      const settled = (): void => void this.pending.delete(pendingKey);
      p.then(settled, settled);
      this.pending.set(pendingKey, p);
    }
    return withTimeout(p, this.timeoutMs);
  }

  private async limited<V>(fetch: () => Promise<V>): Promise<V> {
    while (this.running >= this.maxInFlight) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    this.calls++;
    try {
      return await fetch();
    } catch (err) {
      throw new UserLookupError('failed', `passwd look-up failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function withTimeout<V>(p: Promise<V>, ms: number): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    const timer = setTimeout(() => reject(new UserLookupError('timeout', `passwd look-up took longer than ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Wraps synchronous look-ups (test seams) in the async interface. */
export function lookupFromSync(nameOf: (uid: number) => string | null, uidOf: (name: string) => number | null): UserLookup {
  return { nameOf: async (uid) => nameOf(uid), uidOf: async (name) => uidOf(name) };
}
