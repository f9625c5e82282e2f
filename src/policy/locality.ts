// The local/remote rule, TypeScript side. pam/policy.c is its C twin (the PAM module applies it before it
// connects); test/policy.test.ts runs one table through both. docs/policy.md states the rule.

/** What logind says about a process (the PAM caller): in a local session, a remote one, none, or unknown. */
export const SESSION_STATES = ['local', 'remote', 'none', 'error'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** One logind session, as its /run/systemd/sessions/ID file (or sd_session_* in C) describes it. */
export interface SessionFacts {
  /** REMOTE=: logind's own flag, which it leaves at 0 for a localhost remote host. */
  remote: boolean;
  /** REMOTE_HOST= is set, whatever it says. */
  remoteHost: boolean;
  /** SEAT= is set. */
  seat: boolean;
  /** ACTIVE=: in the foreground of its seat. */
  active: boolean;
  /** TYPE=: tty, x11, wayland, mir, unspecified, web. */
  type: string;
}

/** What one session says about where its user is. */
export const SESSION_KINDS = ['seat-active', 'seat-inactive', 'remote', 'other'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

/**
 * The calling user's sessions, consulted when the calling process is in none: 'local' is at least one
 * seat-active session and no remote one; 'remote' is any remote session; 'none' is neither; 'error' a failed read.
 */
export const USER_STATES = ['local', 'remote', 'none', 'error'] as const;
export type UserState = (typeof USER_STATES)[number];

/** Only 'local' may use the camera; the others name why not. */
export const LOCALITIES = ['local', 'remote-host', 'remote-session', 'no-session', 'user-remote'] as const;
export type Locality = (typeof LOCALITIES)[number];

export interface LocalityInput {
  /** PAM_RHOST as the request carries it ('' when unset). */
  rhost: string;
  session: SessionState;
  /** The service runs outside a user session by design (login and lock screens) and is listed as a greeter. */
  greeter: boolean;
  /** The calling uid's sessions; read only when `session` is 'none' (ignored otherwise). */
  user: UserState;
}

const INTERACTIVE_TYPES: ReadonlySet<string> = new Set(['tty', 'x11', 'wayland', 'mir']);

/**
 * Remote: logind's flag, any remote host (logind leaves localhost out, but an ssh through a tunnel arrives from
 * 127.0.0.1), or a terminal/graphical login with no seat (sshd without a host, xrdp, a serial line). Otherwise
 * seat-active when someone is in front of a seat in a terminal or graphical session.
 */
export function sessionKind(f: SessionFacts): SessionKind {
  if (f.remote || f.remoteHost) return 'remote';
  const interactive = INTERACTIVE_TYPES.has(f.type);
  if (!f.seat) return interactive ? 'remote' : 'other';
  return f.active && interactive ? 'seat-active' : 'seat-inactive';
}

/** A user's sessions whose facts were all read (a failed read is 'error', decided by the caller). */
export function summariseUser(kinds: readonly SessionKind[]): UserState {
  if (kinds.includes('remote')) return 'remote';
  return kinds.includes('seat-active') ? 'local' : 'none';
}

/**
 * The rule, in order: any PAM_RHOST is remote (localhost, 127.0.0.1, ::1 and localhost.localdomain too: a
 * tunnel arrives from loopback); a session that is remote is remote; a local session is local; a greeter is
 * local outside a session; a failed lookup is remote; no session is local only if the calling user has an
 * active session on a seat and no remote session at all.
 */
export function classifyLocality(i: LocalityInput): Locality {
  if (i.rhost !== '') return 'remote-host';
  if (i.session === 'remote') return 'remote-session';
  if (i.session === 'local') return 'local';
  if (i.greeter) return 'local';
  if (i.session !== 'none') return 'no-session';
  if (i.user === 'remote') return 'user-remote';
  return i.user === 'local' ? 'local' : 'no-session';
}
