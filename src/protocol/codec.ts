// Frame and payload codec for protocol version 1 (docs/protocol.md is the specification).
// Decoders return a typed message or throw ProtocolError, nothing else, whatever the bytes.
import { ProtocolError } from './errors.js';
import {
  EVENT_CODES,
  MAX_DEADLINE_MS,
  REASONS_BY_RESULT,
  RESULTS,
  type Answer,
  type EventCode,
  type Message,
  type ReasonFor,
  type Request,
  type Reset,
  type Result,
} from './types.js';

export const VERSION = 1;
export const MAGIC = Buffer.from('FGT', 'ascii');
export const HEADER_SIZE = 8;
export const MAX_PAYLOAD = 4096;
export const MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD;

const MAX_VALUE = 1024;
const MAX_KEY = 32;

interface FieldSpec {
  max: number;
  /** Whether an empty value is allowed. */
  empty: boolean;
}

const FIELDS: Record<Message['type'], Record<string, FieldSpec>> = {
  request: {
    user: { max: 256, empty: false },
    service: { max: 256, empty: false },
    tty: { max: 256, empty: true },
    rhost: { max: 1024, empty: true },
    deadline_ms: { max: 6, empty: false },
  },
  reset: { user: { max: 256, empty: false }, service: { max: 256, empty: false } },
  event: { event: { max: MAX_VALUE, empty: false } },
  answer: { result: { max: MAX_VALUE, empty: false }, reason: { max: MAX_VALUE, empty: false } },
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks a frame header (the first HEADER_SIZE bytes) and returns the payload length.
 * Rejects before any payload is read, so an oversized frame is never buffered.
 */
export function parseHeader(header: Uint8Array): number {
  checkHeaderPrefix(header);
  if (header.length < HEADER_SIZE) throw new ProtocolError('truncated', 'short header');
  const length = ((header[4]! << 24) >>> 0) + (header[5]! << 16) + (header[6]! << 8) + header[7]!;
  if (length === 0) throw new ProtocolError('bad-length', 'empty payload');
  if (length > MAX_PAYLOAD) throw new ProtocolError('oversized', `payload ${length} > ${MAX_PAYLOAD} bytes`);
  return length;
}

/** Checks magic and version on however many header bytes are there, so garbage is refused early. */
export function checkHeaderPrefix(header: Uint8Array): void {
  for (let j = 0; j < Math.min(header.length, MAGIC.length); j++) {
    if (header[j] !== MAGIC[j]) throw new ProtocolError('bad-magic');
  }
  if (header.length > 3 && header[3] !== VERSION) {
    throw new ProtocolError('bad-version', `version ${header[3]}, expected ${VERSION}`);
  }
}

/** Decodes exactly one whole frame; bytes beyond it are an error. */
export function decodeFrame(frame: Uint8Array): Message {
  const length = parseHeader(frame);
  if (frame.length < HEADER_SIZE + length) throw new ProtocolError('truncated', 'frame shorter than its length');
  if (frame.length > HEADER_SIZE + length) throw new ProtocolError('trailing-data');
  return decodePayload(frame.subarray(HEADER_SIZE));
}

/** Decodes one whole frame that must be a request (what the daemon accepts). */
export function decodeRequest(frame: Uint8Array): Request {
  const m = decodeFrame(frame);
  if (m.type !== 'request') throw new ProtocolError('unexpected-type', `expected request, got ${m.type}`);
  return m;
}

function isKey(k: string): boolean {
  if (k.length < 1 || k.length > MAX_KEY) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    const lower = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !lower : !(lower || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
  }
  return true;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function oneOf<T extends string>(list: readonly T[], v: string): v is T {
  return (list as readonly string[]).includes(v);
}

/** Decodes one payload (the bytes after the header). */
export function decodePayload(payload: Uint8Array): Message {
  if (payload.length === 0) throw new ProtocolError('bad-length', 'empty payload');
  if (payload.length > MAX_PAYLOAD) throw new ProtocolError('oversized');
  if (payload.includes(0)) throw new ProtocolError('embedded-nul');
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new ProtocolError('bad-utf8');
  }
  if (!text.endsWith('\n')) throw new ProtocolError('bad-syntax', 'payload must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const fields = new Map<string, string>();
  let spec: Record<string, FieldSpec> | undefined;
  let type: Message['type'] | undefined;
  for (const [i, line] of lines.entries()) {
    if (line.length === 0) throw new ProtocolError('bad-syntax', `empty line ${i + 1}`);
    const eq = line.indexOf('=');
    if (eq < 0) throw new ProtocolError('bad-syntax', `line ${i + 1} has no '='`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (!isKey(key)) throw new ProtocolError('bad-key', `line ${i + 1}`);
    if (hasControl(value)) throw new ProtocolError('bad-syntax', `control character in ${key}`);
    if (i === 0) {
      if (key !== 'type' || !(value === 'request' || value === 'reset' || value === 'event' || value === 'answer')) {
        throw new ProtocolError('unknown-type', key === 'type' ? value.slice(0, 32) : 'first line is not type=');
      }
      type = value;
      spec = FIELDS[value];
      continue;
    }
    const f = spec![key];
    if (!f) throw new ProtocolError('unknown-field', key);
    if (fields.has(key)) throw new ProtocolError('duplicate-field', key);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > f.max || (bytes === 0 && !f.empty)) {
      throw new ProtocolError('bad-value', `${key} must be ${f.empty ? 0 : 1}..${f.max} bytes`);
    }
    fields.set(key, value);
  }
  for (const key of Object.keys(spec!)) {
    if (!fields.has(key)) throw new ProtocolError('missing-field', key);
  }
  const get = (k: string): string => fields.get(k)!;
  switch (type!) {
    case 'request': {
      const d = get('deadline_ms');
      if (!/^[1-9][0-9]{0,5}$/.test(d) || Number(d) > MAX_DEADLINE_MS) {
        throw new ProtocolError('bad-value', `deadline_ms must be 1..${MAX_DEADLINE_MS}`);
      }
      return {
        type: 'request',
        user: get('user'),
        service: get('service'),
        tty: get('tty'),
        rhost: get('rhost'),
        deadlineMs: Number(d),
      };
    }
    case 'reset':
      return { type: 'reset', user: get('user'), service: get('service') };
    case 'event': {
      const e = get('event');
      if (!oneOf(EVENT_CODES, e)) throw new ProtocolError('bad-value', 'unknown event');
      return { type: 'event', event: e };
    }
    case 'answer': {
      const result = get('result');
      const reason = get('reason');
      if (!oneOf(RESULTS, result)) throw new ProtocolError('bad-value', 'unknown result');
      if (!oneOf<string>(REASONS_BY_RESULT[result], reason)) {
        throw new ProtocolError('bad-value', `reason not valid for ${result}`);
      }
      return { type: 'answer', result, reason } as Answer;
    }
  }
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function frame(lines: [string, string][]): Buffer {
  // Checked per value first so that an injected "\nuser=root" is reported as what it is, and because
  // Buffer.from would silently turn a lone surrogate into U+FFFD.
  for (const [k, v] of lines) {
    if (typeof v !== 'string') throw new ProtocolError('bad-value', `${k} must be a string`);
    if (v.includes('\0')) throw new ProtocolError('embedded-nul', k);
    if (hasControl(v)) throw new ProtocolError('bad-syntax', `control character in ${k}`);
    if (hasLoneSurrogate(v)) throw new ProtocolError('bad-utf8', k);
  }
  const payload = Buffer.from(lines.map(([k, v]) => `${k}=${v}\n`).join(''), 'utf8');
  if (payload.length > MAX_PAYLOAD) throw new ProtocolError('oversized', `payload ${payload.length} bytes`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  MAGIC.copy(out, 0);
  out[3] = VERSION;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, HEADER_SIZE);
  // Encoders refuse to produce anything the decoders would reject: validate the exact bytes we send.
  decodePayload(out.subarray(HEADER_SIZE));
  return out;
}

/** One request frame. Throws ProtocolError if a field is out of range (e.g. a NUL or newline in user). */
export function encodeRequest(r: Omit<Request, 'type'>): Buffer {
  if (!Number.isSafeInteger(r.deadlineMs)) throw new ProtocolError('bad-value', 'deadlineMs must be an integer');
  return frame([
    ['type', 'request'],
    ['user', r.user],
    ['service', r.service],
    ['tty', r.tty],
    ['rhost', r.rhost],
    ['deadline_ms', String(r.deadlineMs)],
  ]);
}

/** One reset frame: clears the user's lockout counter (root peers only; docs/lockout.md). */
export function encodeReset(r: Omit<Reset, 'type'>): Buffer {
  return frame([
    ['type', 'reset'],
    ['user', r.user],
    ['service', r.service],
  ]);
}

/** One progress event frame. */
export function encodeEvent(event: EventCode): Buffer {
  return frame([
    ['type', 'event'],
    ['event', event],
  ]);
}

/** The final answer frame; the reason must be valid for the result. */
export function encodeAnswer<R extends Result>(result: R, reason: ReasonFor<R>): Buffer {
  return frame([
    ['type', 'answer'],
    ['result', result],
    ['reason', reason],
  ]);
}
