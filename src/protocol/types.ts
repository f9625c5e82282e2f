/** Progress events the daemon may send before its answer (docs/protocol.md, "event"). */
export const EVENT_CODES = ['queued', 'looking', 'no-face', 'too-dark', 'too-far', 'blurry', 'retry'] as const;
export type EventCode = (typeof EVENT_CODES)[number];

export const RESULTS = ['allow', 'deny', 'unavailable', 'ok'] as const;
export type Result = (typeof RESULTS)[number];

/** Which reasons are valid with which result; any other pair is a protocol error. */
export const REASONS_BY_RESULT = {
  allow: ['match'],
  deny: ['no-match', 'not-live'],
  unavailable: [
    'no-templates',
    'disabled',
    'remote-session',
    'not-permitted',
    'bad-request',
    'busy',
    'camera-error',
    'no-face',
    'model-mismatch',
    'internal-error',
    'shutting-down',
    'locked-out',
  ],
  // The answer to a `reset` (a lockout counter cleared); never an answer to an authentication request.
  ok: ['reset'],
} as const satisfies Record<Result, readonly string[]>;

export type AllowReason = (typeof REASONS_BY_RESULT.allow)[number];
export type DenyReason = (typeof REASONS_BY_RESULT.deny)[number];
export type UnavailableReason = (typeof REASONS_BY_RESULT.unavailable)[number];
export type OkReason = (typeof REASONS_BY_RESULT.ok)[number];
export type Reason = AllowReason | DenyReason | UnavailableReason | OkReason;
export type ReasonFor<R extends Result> = (typeof REASONS_BY_RESULT)[R][number];

export interface Request {
  type: 'request';
  /** PAM user name, 1..256 bytes. */
  user: string;
  /** PAM_SERVICE, 1..256 bytes. */
  service: string;
  /** PAM_TTY, may be empty. */
  tty: string;
  /** PAM_RHOST, may be empty. */
  rhost: string;
  /** How long the client waits, from when it sent the request: 1..600000 ms. */
  deadlineMs: number;
}

/**
 * Client → server: "this user just authenticated another way (a password)", which clears the user's lockout
 * counter. Only a uid 0 peer may send it (src/policy); the PAM module sends it from its account phase.
 */
export interface Reset {
  type: 'reset';
  /** PAM user name, 1..256 bytes. */
  user: string;
  /** PAM_SERVICE (or `facegate-unlock` from the CLI), 1..256 bytes; logged. */
  service: string;
}

export interface Event {
  type: 'event';
  event: EventCode;
}

export type Answer =
  | { type: 'answer'; result: 'allow'; reason: AllowReason }
  | { type: 'answer'; result: 'deny'; reason: DenyReason }
  | { type: 'answer'; result: 'unavailable'; reason: UnavailableReason }
  | { type: 'answer'; result: 'ok'; reason: OkReason };

export type Message = Request | Reset | Event | Answer;

export const MAX_DEADLINE_MS = 600_000;
