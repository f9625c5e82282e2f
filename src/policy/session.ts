import fs from 'node:fs';
import path from 'node:path';
import type { SessionState } from './locality.js';

/** Where the lookup reads: /proc and logind's state directory (tests point them at a fake tree). */
export interface SessionPaths {
  proc: string;
  sessions: string;
}

export const SYSTEM_PATHS: SessionPaths = { proc: '/proc', sessions: '/run/systemd/sessions' };

const SESSION_UNIT = /^session-([A-Za-z0-9]+)\.scope$/;

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

/** REMOTE= of a logind session file (logind always writes it: 0 or 1). Anything else is an error. */
export function remoteFlag(sessionFile: string): boolean | null {
  for (const line of sessionFile.split('\n')) {
    if (line.startsWith('REMOTE=')) {
      const v = line.slice(7).trim();
      if (v === '1') return true;
      if (v === '0') return false;
      return null;
    }
  }
  return null;
}

/**
 * What logind says about process `pid`: the daemon's side of the check the PAM module makes with
 * sd_pid_get_session() and sd_session_is_remote(). Fails closed: an unreadable /proc entry (the process left,
 * or /proc is hidden from this user), a session file that is missing or unclear, or pid 0 (unknown) is 'error'.
 */
export function sessionOfPid(pid: number, paths: SessionPaths = SYSTEM_PATHS): SessionState {
  if (!Number.isInteger(pid) || pid <= 0) return 'error';
  let cgroup: string;
  try {
    cgroup = fs.readFileSync(path.join(paths.proc, String(pid), 'cgroup'), 'utf8');
  } catch {
    return 'error';
  }
  const id = sessionIdFromCgroup(cgroup);
  if (id === null) return 'none';
  let file: string;
  try {
    file = fs.readFileSync(path.join(paths.sessions, id), 'utf8');
  } catch {
    return 'error';
  }
  const remote = remoteFlag(file);
  if (remote === null) return 'error';
  return remote ? 'remote' : 'local';
}
