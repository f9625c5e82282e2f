import { userNameOfUid } from '../daemon/peercred.js';

/**
 * Who may ask for whose face: uid 0 for anyone, any other uid only for its own login name (kscreenlocker and
 * other lock screens run PAM as the user). A uid with no name may ask for nobody but itself, so for no one.
 */
export function mayAskFor(uid: number, user: string, userName: (uid: number) => string | null = userNameOfUid): boolean {
  return uid === 0 || userName(uid) === user;
}

/** Only root may clear a lockout counter: a user's own session could otherwise reset its counter at will. */
export function mayReset(uid: number): boolean {
  return uid === 0;
}
