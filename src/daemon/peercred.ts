import { createRequire } from 'node:module';
import path from 'node:path';
import type net from 'node:net';
import { PACKAGE_ROOT } from '../paths.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

interface PeerCredAddon {
  getPeerCred(fd: number): unknown;
  userName(uid: number): unknown;
  uidOfName(name: string): unknown;
  userNameAsync(uid: number): Promise<unknown>;
  uidOfNameAsync(name: string): Promise<unknown>;
}

let addon: PeerCredAddon | undefined;

function load(): PeerCredAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    const file = path.join(PACKAGE_ROOT, 'native', 'peercred', 'build', 'Release', 'peercred.node');
    try {
      addon = require(file) as PeerCredAddon;
    } catch (err) {
      throw new Error(`peercred addon not built (${file}): run "npm run build:native" (${(err as Error).message})`);
    }
  }
  return addon;
}

/** SO_PEERCRED of a connected Unix socket fd. */
export function peerCredOfFd(fd: number): PeerCred {
  const raw = load().getPeerCred(fd);
  if (typeof raw !== 'object' || raw === null) throw new Error('peercred: unexpected result');
  const { pid, uid, gid } = raw as Record<string, unknown>;
  if (typeof pid !== 'number' || typeof uid !== 'number' || typeof gid !== 'number') throw new Error('peercred: unexpected result');
  return { pid, uid, gid };
}

/**
 * SO_PEERCRED of an accepted net.Socket. Node keeps the fd on the libuv pipe handle (`_handle.fd`); it is not
 * public API, so a missing or invalid fd is an error and the caller refuses the request (fail closed).
 */
export function peerCredOf(socket: net.Socket): PeerCred {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('peercred: socket has no file descriptor');
  return peerCredOfFd(fd);
}

/** The login name of a uid through NSS (getpwuid_r), or null if it has none. */
export function userNameOfUid(uid: number): string | null {
  if (!Number.isInteger(uid) || uid < 0 || uid > 0xffffffff) throw new Error(`bad uid ${uid}`);
  const name = load().userName(uid);
  if (name !== null && typeof name !== 'string') throw new Error('peercred: unexpected result');
  return name;
}

function checkUid(uid: number): void {
  if (!Number.isInteger(uid) || uid < 0 || uid > 0xffffffff) throw new Error(`bad uid ${uid}`);
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || name.includes('\0')) throw new Error('bad user name');
}

/** The uid of a login name through NSS (getpwnam_r), or null if there is no such user. */
export function uidOfUserName(name: string): number | null {
  checkName(name);
  const uid = load().uidOfName(name);
  if (uid !== null && typeof uid !== 'number') throw new Error('peercred: unexpected result');
  return uid;
}

/** userNameOfUid on the libuv thread pool, so a slow NSS source (LDAP, sssd) never blocks the event loop. */
export async function userNameOfUidAsync(uid: number): Promise<string | null> {
  checkUid(uid);
  const name = await load().userNameAsync(uid);
  if (name !== null && typeof name !== 'string') throw new Error('peercred: unexpected result');
  return name;
}

/** uidOfUserName on the libuv thread pool. */
export async function uidOfUserNameAsync(name: string): Promise<number | null> {
  checkName(name);
  const uid = await load().uidOfNameAsync(name);
  if (uid !== null && typeof uid !== 'number') throw new Error('peercred: unexpected result');
  return uid;
}
