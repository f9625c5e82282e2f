import { isValidUserName } from '../store/username.js';
import { ERRORS, type ErrorName } from './api.js';

/** A method call refused with a named D-Bus error; the text is shown to users, so it names the problem. */
export class DbusMethodError extends Error {
  constructor(
    readonly errorName: ErrorName,
    message: string,
  ) {
    super(message);
    this.name = 'DbusMethodError';
  }
}

/** Longest user name accepted, in bytes (src/store/username.ts allows 64 characters, all ASCII). */
const USER_MAX_BYTES = 64;

/**
 * Checks a call's signature and body against the method's input signature. The bus daemon has already checked
 * that the body matches the declared signature; this checks the declared signature is the one we serve, and
 * the decoded values' JS types, because the library's decoding is not our contract.
 */
export function checkArgs(method: string, expected: string, signature: string | undefined, body: unknown): unknown[] {
  const sig = signature ?? '';
  if (sig !== expected) {
    const want = expected === '' ? 'no arguments' : `signature "${expected}"`;
    throw new DbusMethodError(ERRORS.invalidArgs, `${method} takes ${want}, got ${sig === '' ? 'none' : `"${sig.slice(0, 32)}"`}`);
  }
  const args = body === undefined ? [] : body;
  if (!Array.isArray(args) || args.length !== expected.length) {
    throw new DbusMethodError(ERRORS.invalidArgs, `${method}: malformed arguments`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === 's' && typeof args[i] !== 'string') throw new DbusMethodError(ERRORS.invalidArgs, `${method}: argument ${i + 1} is not a string`);
  }
  return args;
}

/** Why a user name argument is refused, or null if it is acceptable. */
export function userNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > USER_MAX_BYTES) return `is ${bytes} bytes long (at most ${USER_MAX_BYTES})`;
  // The bus daemon validates UTF-8 and refuses NUL; a lone surrogate is checked anyway (fail closed).
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) return 'is not valid UTF-8';
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects or escapes
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains control characters';
  if (!isValidUserName(name)) return 'is not a valid login name (letters, digits, "_", ".", "@", "-"; a trailing "$" allowed)';
  return null;
}

/** The user name argument, or a DbusMethodError naming what is wrong with it. */
export function checkUser(method: string, value: unknown): string {
  if (typeof value !== 'string') throw new DbusMethodError(ERRORS.invalidArgs, `${method}: user is not a string`);
  const problem = userNameProblem(value);
  if (problem) throw new DbusMethodError(ERRORS.invalidUser, `${method}: user ${JSON.stringify(value.slice(0, 40))} ${problem}`);
  return value;
}
