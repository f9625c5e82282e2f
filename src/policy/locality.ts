// The local/remote rule, TypeScript side. pam/policy.c is its C twin (the PAM module applies it before it
// connects); test/policy-parity.test.ts runs one table through both. docs/policy.md states the rule.

/** What logind says about a process (the PAM caller): in a local session, a remote one, none, or unknown. */
export const SESSION_STATES = ['local', 'remote', 'none', 'error'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** Only 'local' may use the camera; the others name why not. */
export const LOCALITIES = ['local', 'remote-host', 'remote-session', 'no-session'] as const;
export type Locality = (typeof LOCALITIES)[number];

export interface LocalityInput {
  /** PAM_RHOST as the request carries it ('' when unset). */
  rhost: string;
  session: SessionState;
  /** The service runs outside a user session by design (login and lock screens) and is listed as a greeter. */
  greeter: boolean;
}

/**
 * The rule, in order: any PAM_RHOST is remote (localhost, 127.0.0.1, ::1 and localhost.localdomain too: a
 * tunnel arrives from loopback); a session logind calls remote is remote; no session or a failed lookup is
 * remote unless the service is a greeter; only then is it local.
 */
export function classifyLocality(i: LocalityInput): Locality {
  if (i.rhost !== '') return 'remote-host';
  if (i.session === 'remote') return 'remote-session';
  if (i.session === 'local') return 'local';
  return i.greeter ? 'local' : 'no-session';
}
