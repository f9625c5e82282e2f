/** Every way a frame or payload can be rejected; the same names as `enum fg_err` in pam/protocol.h. */
export const PROTOCOL_ERROR_CODES = [
  'bad-magic',
  'bad-version',
  'bad-length',
  'oversized',
  'truncated',
  'trailing-data',
  'bad-utf8',
  'embedded-nul',
  'bad-syntax',
  'bad-key',
  'unknown-type',
  'unknown-field',
  'duplicate-field',
  'missing-field',
  'bad-value',
  'unexpected-type',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** The only error the codec throws. `code` is stable and meant for logs and tests; `message` is for people. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}
