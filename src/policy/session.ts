import fs from 'node:fs';
import path from 'node:path';
import { sessionKind, summariseUser, type SessionFacts, type SessionKind, type SessionState, type UserState } from './locality.js';

/** Where the lookups read: /proc and logind's state directories (tests point them at a fake tree). */
export interface SessionPaths {
  proc: string;
  sessions: string;
  users: string;
}

export const SYSTEM_PATHS: SessionPaths = { proc: '/proc', sessions: '/run/systemd/sessions', users: '/run/systemd/users' };

const SESSION_UNIT = /^session-([A-Za-z0-9]+)\.scope$/;
const SESSION_ID = /^[A-Za-z0-9]+$/;

/**
 * The logind session id of a process from its cgroup path, the way sd_pid_get_session() finds it: the first
 * path element that is not a slice is the unit, and only a `session-ID.scope` unit is a session. null when the
 * process is in no session (a system service, a `systemd-run --user` unit).
 */
export function sessionIdFromCgroup(cgroupFile: string): string | null {
  let path: string | undefined;
  for (const line of cgroupFile.split('\n')) {
    // cgroup v2 ("0::/path") wins; v1 keeps systemd's tree in "N:name=systemd:/path".
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') path = m[3];
    else if (m[2] === 'name=systemd' && path === undefined) path = m[3];
  }
  if (path === undefined) return null;
  for (const part of path.split('/')) {
    if (part === '' || part.endsWith('.slice')) continue;
    return SESSION_UNIT.exec(part)?.[1] ?? null;
  }
  return null;
}

/** KEY=value of a logind state file; the last assignment wins and an empty value is absent, as sd-login reads it. */
function envValue(file: string, key: string): string | undefined {
  let value: string | undefined;
  for (const line of file.split('\n')) {
    if (line.startsWith(`${key}=`)) value = line.slice(key.length + 1).trim();
  }
  return value === '' ? undefined : value;
}

/** systemd's parse_boolean(), which sd_session_is_remote/_is_active apply; null for anything else. */
function parseBoolean(v: string | undefined): boolean | null {
  if (v === undefined) return null;
  const l = v.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(l)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(l)) return false;
  return null;
}

/** REMOTE= of a logind session file (logind always writes it: 0 or 1). Anything else is an error. */
export function remoteFlag(sessionFile: string): boolean | null {
  return parseBoolean(envValue(sessionFile, 'REMOTE'));
}

/**
 * The facts of one session file, read the way pam/logind.c reads them through sd-login: REMOTE=, ACTIVE= and
 * TYPE= must be there; SEAT= and REMOTE_HOST= may be absent. null when the file is unclear.
 */
export function sessionFacts(sessionFile: string): SessionFacts | null {
  const remote = remoteFlag(sessionFile);
  const active = parseBoolean(envValue(sessionFile, 'ACTIVE'));
  const type = envValue(sessionFile, 'TYPE');
  if (remote === null || active === null || type === undefined) return null;
  return {
    remote,
    remoteHost: envValue(sessionFile, 'REMOTE_HOST') !== undefined,
    seat: envValue(sessionFile, 'SEAT') !== undefined,
    active,
    type,
  };
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The kind of session `id`, or null when its file is missing or unclear. */
function kindOfSession(id: string, paths: SessionPaths): SessionKind | null {
  if (!SESSION_ID.test(id)) return null;
  const file = readOrNull(path.join(paths.sessions, id));
  const facts = file === null ? null : sessionFacts(file);
  return facts === null ? null : sessionKind(facts);
}

/**
 * What logind says about process `pid`: the daemon's side of the check the PAM module makes with
 * sd_pid_get_session() (pam/logind.c). Fails closed: an unreadable /proc entry (the process left, or /proc is
 * hidden from this user), a session file that is missing or unclear, or pid 0 (unknown) is 'error'.
 */
export function sessionOfPid(pid: number, paths: SessionPaths = SYSTEM_PATHS): SessionState {
  if (!Number.isInteger(pid) || pid <= 0) return 'error';
  const cgroup = readOrNull(path.join(paths.proc, String(pid), 'cgroup'));
  if (cgroup === null) return 'error';
  const id = sessionIdFromCgroup(cgroup);
  if (id === null) return 'none';
  const kind = kindOfSession(id, paths);
  if (kind === null) return 'error';
  return kind === 'remote' ? 'remote' : 'local';
}

/** The real uid on the `Uid:` line of /proc/PID/status: the invoking user of a set-uid sudo or su. */
export function realUidFromStatus(statusFile: string): number | null {
  const m = /^Uid:\s+(\d+)\s/m.exec(statusFile);
  if (!m) return null;
  const uid = Number(m[1]);
  return Number.isSafeInteger(uid) && uid < 0xffffffff ? uid : null;
}

/**
 * The sessions of `uid` (SESSIONS= of /run/systemd/users/UID, closing ones included, as
 * sd_uid_get_sessions(uid, -1) reads them), summarised. No user file means no sessions, as for sd-login; any
 * session file that is missing or unclear is 'error'.
 */
export function userSessionsOf(uid: number, paths: SessionPaths = SYSTEM_PATHS): UserState {
  if (!Number.isSafeInteger(uid) || uid < 0 || uid >= 0xffffffff) return 'error';
  let file: string;
  try {
    file = fs.readFileSync(path.join(paths.users, String(uid)), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'error';
  }
  const ids = (envValue(file, 'SESSIONS') ?? '').split(/\s+/).filter((s) => s !== '');
  const kinds: SessionKind[] = [];
  for (const id of ids) {
    const kind = kindOfSession(id, paths);
    if (kind === null) return 'error';
    kinds.push(kind);
  }
  return summariseUser(kinds);
}

/**
 * The sessions of the user behind process `pid`: its real uid, the identity the PAM module uses (getuid() in
 * the PAM application: the one who typed sudo or su, not the target). An unreadable /proc entry is 'error'.
 */
export function userSessionsOfPid(pid: number, paths: SessionPaths = SYSTEM_PATHS): UserState {
  if (!Number.isInteger(pid) || pid <= 0) return 'error';
  const status = readOrNull(path.join(paths.proc, String(pid), 'status'));
  const uid = status === null ? null : realUidFromStatus(status);
  return uid === null ? 'error' : userSessionsOf(uid, paths);
}
