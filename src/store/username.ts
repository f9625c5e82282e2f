/**
 * Accepted user names: what shadow-utils' useradd accepts by default (plus a trailing `$` for machine accounts),
 * at most 64 bytes. Anything else from a socket, D-Bus or the command line is refused before it reaches SQL,
 * logs or getpwnam.
 */
const USER_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,62}\$?$/;

export function isValidUserName(name: unknown): name is string {
  return typeof name === 'string' && USER_RE.test(name) && name !== '.' && name !== '..';
}

export function checkUserName(name: unknown): string {
  if (!isValidUserName(name)) throw new Error(`invalid user name ${JSON.stringify(String(name)).slice(0, 80)}`);
  return name;
}
