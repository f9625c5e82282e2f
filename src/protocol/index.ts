// Public API of the facegate wire protocol; see docs/protocol.md.
export { ProtocolError, PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from './errors.js';
export {
  EVENT_CODES,
  RESULTS,
  REASONS_BY_RESULT,
  MAX_DEADLINE_MS,
  type EventCode,
  type Result,
  type Reason,
  type ReasonFor,
  type AllowReason,
  type DenyReason,
  type UnavailableReason,
  type OkReason,
  type Request,
  type Reset,
  type Event,
  type Answer,
  type Message,
} from './types.js';
export {
  VERSION,
  MAGIC,
  HEADER_SIZE,
  MAX_PAYLOAD,
  MAX_FRAME,
  parseHeader,
  checkHeaderPrefix,
  decodeFrame,
  decodePayload,
  decodeRequest,
  encodeRequest,
  encodeReset,
  encodeEvent,
  encodeAnswer,
} from './codec.js';
export { FrameReader } from './frame-reader.js';
