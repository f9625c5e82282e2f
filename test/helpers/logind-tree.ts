// A fake logind state tree (/run/systemd/users/UID, /run/systemd/sessions/ID) for the local rule's lookups:
// the TS side reads it through SessionPaths; the C side (libsystemd's sd-login, which reads fixed paths) sees it
// when a command runs in a private mount namespace with the tree bound over /run/systemd. This machine runs no
// systemd, so these trees are the only logind the tests have (docs/policy.md says what that leaves untested).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SessionPaths } from '../../src/policy/index.js';

/** Session files logind would write, by what they stand for. */
export const SESSION_FILES = {
  /** GNOME/KDE on a seat, in the foreground. */
  desktop: 'UID=1000\nUSER=u\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=wayland\nCLASS=user\nSEAT=seat0\nVTNR=2\n',
  /** A VT login in the foreground. */
  vt: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=tty\nCLASS=user\nSEAT=seat0\nVTNR=3\n',
  /** A desktop on a seat switched away from (another VT or user in front). */
  desktopInactive: 'UID=1000\nACTIVE=0\nSTATE=online\nREMOTE=0\nTYPE=x11\nCLASS=user\nSEAT=seat0\nVTNR=2\n',
  /** sshd from elsewhere. */
  ssh: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=1\nTYPE=tty\nCLASS=user\nREMOTE_HOST=203.0.113.9\n',
  /** sshd through a tunnel: logind leaves REMOTE=0 for a localhost host. */
  sshLocalhost: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=tty\nCLASS=user\nREMOTE_HOST=127.0.0.1\n',
  /** A seat session that still records a remote host (XDMCP-style display managers): the host decides. */
  seatWithHost: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=x11\nCLASS=user\nSEAT=seat0\nREMOTE_HOST=localhost\n',
  /** An SSH login that ended and left processes behind. */
  sshClosing: 'UID=1000\nACTIVE=0\nSTATE=closing\nREMOTE=1\nTYPE=tty\nCLASS=user\nREMOTE_HOST=far.example\n',
  /** A terminal login with no seat and no host (a serial line, a remote desktop that sets no PAM_RHOST). */
  seatlessTty: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=tty\nCLASS=user\n',
  /** The user's service manager (systemd >= 256 gives it a session) or a background session. */
  manager: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=unspecified\nCLASS=manager\n',
  /** REMOTE= spelled as parse_boolean() also reads it. */
  remoteYes: 'UID=1000\nACTIVE=0\nSTATE=online\nREMOTE=yes\nTYPE=tty\nCLASS=user\n',
  /** Unclear files: the lookup fails. */
  noType: 'UID=1000\nACTIVE=1\nSTATE=active\nREMOTE=0\nCLASS=user\nSEAT=seat0\n',
  badActive: 'UID=1000\nACTIVE=maybe\nSTATE=active\nREMOTE=0\nTYPE=wayland\nSEAT=seat0\n',
} as const;
export type SessionFileName = keyof typeof SESSION_FILES;

/** Each uid's SESSIONS= ids (null: no user file at all); ids name files in `sessions` or are left missing. */
export interface LogindTree {
  users: Record<number, string[] | null | { raw: string }>;
  sessions: Record<string, SessionFileName>;
}

/** Writes the tree under a new temp dir (users/, sessions/); returns its root. */
export function writeLogindTree(tree: LogindTree): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-logind-'));
  fs.mkdirSync(path.join(root, 'users'));
  fs.mkdirSync(path.join(root, 'sessions'));
  for (const [uid, ids] of Object.entries(tree.users)) {
    if (ids === null) continue;
    const body = Array.isArray(ids) ? `SESSIONS=${ids.join(' ')}\n` : ids.raw;
    fs.writeFileSync(path.join(root, 'users', uid), `NAME=u${uid}\nSTATE=active\n${body}`);
  }
  for (const [id, kind] of Object.entries(tree.sessions)) fs.writeFileSync(path.join(root, 'sessions', id), SESSION_FILES[kind]);
  return root;
}

/** The tree's paths for the TS lookups (the process side stays the real /proc). */
export function treePaths(root: string): SessionPaths {
  return { proc: '/proc', sessions: path.join(root, 'sessions'), users: path.join(root, 'users') };
}

/** Why commands cannot run with a fake tree over /run/systemd here, or null when they can. */
export function logindNamespaceSkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for a private mount namespace';
  if (!fs.existsSync('/run/systemd')) return 'no /run/systemd to mount over';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  return r.status === 0 ? null : 'unshare -m does not work here';
}

/**
 * The command prefix that runs a program with `root` bound over /run/systemd in a private mount namespace (the
 * real /run/systemd, which other tests may use, is never touched).
 */
export function inLogindTree(root: string): string[] {
  return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /run/systemd && exec "$@"', root];
}
