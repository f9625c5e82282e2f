// Property tests of the decoder on random and mutated bytes: deterministic seed, bounded iterations.
// Whatever the input, decoders return a well-formed message or throw ProtocolError — nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_CODES,
  FrameReader,
  MAX_FRAME,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  REASONS_BY_RESULT,
  RESULTS,
  decodeFrame,
  decodePayload,
  encodeAnswer,
  encodeEvent,
  encodeRequest,
  type Message,
} from '../src/protocol/index.js';

function rng(seed: number): () => number {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertWellFormed(m: Message): void {
  const str = (v: unknown, min: number, max: number) => {
    assert.equal(typeof v, 'string');
    const n = Buffer.byteLength(v as string);
    assert.ok(n >= min && n <= max);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects or escapes
    assert.ok(!/[\x00-\x1f\x7f]/.test(v as string));
  };
  switch (m.type) {
    case 'request':
      str(m.user, 1, 256);
      str(m.service, 1, 256);
      str(m.tty, 0, 256);
      str(m.rhost, 0, 1024);
      assert.ok(Number.isInteger(m.deadlineMs) && m.deadlineMs >= 1 && m.deadlineMs <= 600_000);
      assert.deepEqual(Object.keys(m).sort(), ['deadlineMs', 'rhost', 'service', 'tty', 'type', 'user']);
      break;
    case 'event':
      assert.ok((EVENT_CODES as readonly string[]).includes(m.event));
      break;
    case 'answer':
      assert.ok((REASONS_BY_RESULT[m.result] as readonly string[]).includes(m.reason));
      break;
    default:
      assert.fail(`unknown message ${JSON.stringify(m)}`);
  }
}

function outcome(fn: () => Message | Message[]): 'ok' | string {
  try {
    const r = fn();
    for (const m of Array.isArray(r) ? r : [r]) assertWellFormed(m);
    return 'ok';
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof ProtocolError, `non-protocol error escaped: ${String(e)}`);
    assert.ok((PROTOCOL_ERROR_CODES as readonly string[]).includes(e.code));
    return e.code;
  }
}

const seeds = (): Buffer[] => [
  encodeRequest({ user: 'alice', service: 'sudo', tty: '/dev/pts/1', rhost: '', deadlineMs: 4000 }),
  encodeRequest({ user: 'zoë', service: 'login', tty: '', rhost: 'localhost', deadlineMs: 1 }),
  ...EVENT_CODES.map((e) => encodeEvent(e)),
  ...RESULTS.map((r) => encodeAnswer(r, REASONS_BY_RESULT[r][0] as never)),
];

function mutate(src: Buffer, rand: () => number): Buffer {
  const b = [...src];
  const n = 1 + Math.floor(rand() * 4);
  const interesting = [0, 0x0a, 0x3d, 0x7f, 0x80, 0xc0, 0xed, 0xf4, 0xff, 0x46, 0x47, 0x54, 1, 0x10];
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * (b.length + 1));
    const byte = rand() < 0.5 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
    switch (Math.floor(rand() * 5)) {
      case 0:
        b[at] = byte;
        break;
      case 1:
        b.splice(at, 0, byte);
        break;
      case 2:
        b.splice(at, 1 + Math.floor(rand() * 8));
        break;
      case 3:
        b.length = at;
        break;
      default:
        b.splice(at, 0, ...b.slice(Math.floor(rand() * b.length), Math.floor(rand() * b.length)));
        break;
    }
  }
  return Buffer.from(b.map((x) => x & 0xff));
}

test('decoders on random and mutated bytes return a message or a typed error', () => {
  const rand = rng(0x5eed1);
  const corpus = seeds();
  const codes = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    let input: Buffer;
    if (i % 4 === 0) {
      input = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    } else {
      input = mutate(corpus[Math.floor(rand() * corpus.length)]!, rand);
    }
    const r1 = outcome(() => decodeFrame(input));
    outcome(() => decodePayload(input.subarray(8)));
    // The same bytes through a stream reader cut at random points.
    const reader = new FrameReader();
    outcome(() => {
      const got: Message[] = [];
      for (let at = 0; at < input.length; ) {
        const step = 1 + Math.floor(rand() * 16);
        got.push(...reader.push(input.subarray(at, at + step)));
        assert.ok(reader.pending <= MAX_FRAME);
        at += step;
      }
      reader.end();
      return got;
    });
    codes.set(r1, (codes.get(r1) ?? 0) + 1);
  }
  // The mutations reach deep into the decoder, not only the header checks.
  for (const c of ['ok', 'bad-magic', 'bad-version', 'truncated', 'bad-utf8', 'embedded-nul', 'bad-syntax', 'bad-value']) {
    assert.ok((codes.get(c) ?? 0) > 0, `no input produced ${c}: ${JSON.stringify([...codes])}`);
  }
});

test('any valid request built from random strings round-trips exactly', () => {
  const rand = rng(42);
  const alphabet = ['a', 'Z', '0', '=', ' ', '/', '.', 'é', '€', '𝄞', '-', '_', 'ß'];
  const s = (max: number, min = 0) => {
    let out = '';
    const len = min + Math.floor(rand() * (max - min + 1));
    while (out.length < len) out += alphabet[Math.floor(rand() * alphabet.length)];
    while (Buffer.byteLength(out) > max) out = [...out].slice(0, -1).join('');
    return out.length >= min ? out : 'x';
  };
  for (let i = 0; i < 2000; i++) {
    const r = {
      user: s(60, 1),
      service: s(20, 1),
      tty: s(20),
      rhost: s(60),
      deadlineMs: 1 + Math.floor(rand() * 600_000),
    };
    assert.deepEqual(decodeFrame(encodeRequest(r)), { type: 'request', ...r });
  }
});
