import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_CODES,
  FrameReader,
  HEADER_SIZE,
  MAX_FRAME,
  MAX_PAYLOAD,
  ProtocolError,
  REASONS_BY_RESULT,
  decodeFrame,
  decodePayload,
  decodeRequest,
  encodeAnswer,
  encodeEvent,
  encodeRequest,
  encodeReset,
  parseHeader,
  type ProtocolErrorCode,
  type Result,
} from '../src/protocol/index.js';

const req = { user: 'alice', service: 'sudo', tty: '/dev/pts/3', rhost: '', deadlineMs: 4000 };

function frameOf(payload: string | Buffer, version = 1, magic = 'FGT', length?: number): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const h = Buffer.alloc(HEADER_SIZE);
  h.write(magic, 0, 'latin1');
  h[3] = version;
  h.writeUInt32BE(length ?? p.length, 4);
  return Buffer.concat([h, p]);
}

function rejects(fn: () => unknown, code: ProtocolErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test('a request encodes to the exact bytes of docs/protocol.md and decodes back', () => {
  const f = encodeRequest(req);
  const text = 'type=request\nuser=alice\nservice=sudo\ntty=/dev/pts/3\nrhost=\ndeadline_ms=4000\n';
  assert.deepEqual(f, frameOf(text));
  assert.deepEqual(f.subarray(0, 8), Buffer.from([0x46, 0x47, 0x54, 1, 0, 0, 0, text.length]));
  assert.deepEqual(decodeFrame(f), { type: 'request', ...req });
  assert.deepEqual(decodeRequest(f), { type: 'request', ...req });
});

test('every event and every valid result/reason pair round-trips', () => {
  for (const e of EVENT_CODES) assert.deepEqual(decodeFrame(encodeEvent(e)), { type: 'event', event: e });
  for (const result of Object.keys(REASONS_BY_RESULT) as Result[]) {
    for (const reason of REASONS_BY_RESULT[result]) {
      const f = encodeAnswer(result, reason as never);
      assert.deepEqual(decodeFrame(f), { type: 'answer', result, reason });
    }
  }
});

test('a reset encodes to its exact bytes; ok only pairs with reset, locked-out only with unavailable', () => {
  const f = encodeReset({ user: 'alice', service: 'sudo' });
  const payload = 'type=reset\nuser=alice\nservice=sudo\n';
  assert.equal(f.subarray(8).toString('utf8'), payload);
  assert.equal(f.readUInt32BE(4), payload.length);
  assert.deepEqual(decodeFrame(f), { type: 'reset', user: 'alice', service: 'sudo' });
  const code = (p: string): string => {
    try {
      decodePayload(Buffer.from(p));
      return 'ok';
    } catch (e) {
      return e instanceof ProtocolError ? e.code : 'other';
    }
  };
  assert.equal(code('type=reset\nuser=alice\n'), 'missing-field');
  assert.equal(code('type=reset\nuser=alice\nservice=sudo\ndeadline_ms=1\n'), 'unknown-field');
  assert.equal(code('type=reset\nuser=\nservice=sudo\n'), 'bad-value');
  assert.equal(code('type=answer\nresult=ok\nreason=match\n'), 'bad-value');
  assert.equal(code('type=answer\nresult=allow\nreason=reset\n'), 'bad-value');
  assert.equal(code('type=answer\nresult=deny\nreason=locked-out\n'), 'bad-value');
  assert.equal(code('type=answer\nresult=unavailable\nreason=locked-out\n'), 'ok');
  assert.throws(() => encodeReset({ user: 'a\nuser=root', service: 'sudo' }), ProtocolError);
  assert.throws(
    () => decodeRequest(f),
    (e: unknown) => e instanceof ProtocolError && e.code === 'unexpected-type',
  );
});

test('field order is free after type, values may contain = and multi-byte UTF-8', () => {
  const m = decodePayload(Buffer.from('type=request\ndeadline_ms=1\nrhost=h=x\ntty=\nservice=gdm-password\nuser=zoë\n', 'utf8'));
  assert.deepEqual(m, { type: 'request', user: 'zoë', service: 'gdm-password', tty: '', rhost: 'h=x', deadlineMs: 1 });
  assert.equal(decodeFrame(encodeRequest({ ...req, user: 'é'.repeat(128) })).type, 'request'); // 256 bytes
  rejects(() => encodeRequest({ ...req, user: `${'é'.repeat(128)}x` }), 'bad-value'); // 257 bytes
});

test('header checks: magic, version, zero and oversized lengths, truncation', () => {
  const good = encodeEvent('looking');
  rejects(() => decodeFrame(frameOf('type=event\nevent=looking\n', 1, 'FGX')), 'bad-magic');
  rejects(() => decodeFrame(frameOf('type=event\nevent=looking\n', 2)), 'bad-version');
  rejects(() => decodeFrame(frameOf('type=event\nevent=looking\n', 0)), 'bad-version');
  rejects(() => decodeFrame(frameOf('')), 'bad-length');
  rejects(() => decodeFrame(frameOf('x', 1, 'FGT', MAX_PAYLOAD + 1)), 'oversized');
  rejects(() => decodeFrame(frameOf('x', 1, 'FGT', 0xffffffff)), 'oversized');
  assert.equal(parseHeader(frameOf('', 1, 'FGT', MAX_PAYLOAD)), MAX_PAYLOAD);
  rejects(() => decodeFrame(good.subarray(0, 5)), 'truncated');
  rejects(() => decodeFrame(good.subarray(0, good.length - 1)), 'truncated');
  rejects(() => decodeFrame(Buffer.concat([good, Buffer.from([0])])), 'trailing-data');
});

test('payload checks name the reason', () => {
  const cases: [string | Buffer, ProtocolErrorCode][] = [
    [Buffer.from('type=event\nevent=look\0ing\n'), 'embedded-nul'],
    [Buffer.from([...Buffer.from('type=event\nevent='), 0xc0, 0x80, 0x0a]), 'bad-utf8'], // overlong NUL
    [Buffer.from([...Buffer.from('type=event\nevent='), 0xed, 0xa0, 0x80, 0x0a]), 'bad-utf8'], // surrogate
    [Buffer.from([...Buffer.from('type=event\nevent='), 0xf4, 0x90, 0x80, 0x80, 0x0a]), 'bad-utf8'], // > U+10FFFF
    [Buffer.from([...Buffer.from('type=event\nevent='), 0xe2, 0x80, 0x0a]), 'bad-utf8'], // cut sequence
    ['type=event\nevent=looking', 'bad-syntax'],
    ['type=event\n\nevent=looking\n', 'bad-syntax'],
    ['type=event\r\nevent=looking\n', 'bad-syntax'],
    ['type=event\nevent=looking\r\n', 'bad-syntax'],
    ['type=event\nevent=look\ting\n', 'bad-syntax'],
    ['type=event\nevent=look\x7fing\n', 'bad-syntax'],
    ['type=event\neventlooking\n', 'bad-syntax'],
    ['type=event\nEvent=looking\n', 'bad-key'],
    ['type=event\n=looking\n', 'bad-key'],
    ['type=event\n1event=looking\n', 'bad-key'],
    [`type=event\n${'e'.repeat(33)}=looking\n`, 'bad-key'],
    ['\ufefftype=event\nevent=looking\n', 'bad-key'],
    ['event=looking\ntype=event\n', 'unknown-type'],
    ['type=hello\n', 'unknown-type'],
    ['type=event\nevent=looking\ncolour=blue\n', 'unknown-field'],
    ['type=event\nevent=looking\nevent=looking\n', 'duplicate-field'],
    ['type=event\ntype=event\nevent=looking\n', 'unknown-field'],
    ['type=event\n', 'missing-field'],
    ['type=event\nevent=dancing\n', 'bad-value'],
    ['type=event\nevent=\n', 'bad-value'],
    ['type=answer\nresult=allow\nreason=no-match\n', 'bad-value'],
    ['type=answer\nresult=maybe\nreason=match\n', 'bad-value'],
    ['type=answer\nresult=allow\n', 'missing-field'],
    ['type=request\nuser=\nservice=s\ntty=\nrhost=\ndeadline_ms=1\n', 'bad-value'],
    [`type=request\nuser=${'u'.repeat(257)}\nservice=s\ntty=\nrhost=\ndeadline_ms=1\n`, 'bad-value'],
    [`type=request\nuser=u\nservice=s\ntty=\nrhost=${'h'.repeat(1025)}\ndeadline_ms=1\n`, 'bad-value'],
  ];
  for (const d of ['0', '0100', '600001', '-1', '+5', '1.5', '1e3', ' 1', '9999999', '']) {
    cases.push([`type=request\nuser=u\nservice=s\ntty=\nrhost=\ndeadline_ms=${d}\n`, 'bad-value']);
  }
  for (const [payload, code] of cases) {
    const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    rejects(() => decodePayload(p), code);
    rejects(() => decodeFrame(frameOf(p)), code);
  }
  assert.equal(decodePayload(Buffer.from('type=request\nuser=u\nservice=s\ntty=\nrhost=\ndeadline_ms=600000\n')).type, 'request');
});

test('decodeRequest accepts only requests', () => {
  rejects(() => decodeRequest(encodeEvent('looking')), 'unexpected-type');
  rejects(() => decodeRequest(encodeAnswer('allow', 'match')), 'unexpected-type');
});

test('encoders refuse what the decoders would reject', () => {
  rejects(() => encodeRequest({ ...req, user: 'a\nuser=root' }), 'bad-syntax');
  rejects(() => encodeRequest({ ...req, user: 'a\0' }), 'embedded-nul');
  rejects(() => encodeRequest({ ...req, user: '' }), 'bad-value');
  rejects(() => encodeRequest({ ...req, service: 'x'.repeat(300) }), 'bad-value');
  rejects(() => encodeRequest({ ...req, rhost: '\ud800' }), 'bad-utf8'); // lone surrogate becomes U+FFFD? must not pass silently
  rejects(() => encodeRequest({ ...req, deadlineMs: 0 }), 'bad-value');
  rejects(() => encodeRequest({ ...req, deadlineMs: 1.5 }), 'bad-value');
  rejects(() => encodeRequest({ ...req, deadlineMs: 600_001 }), 'bad-value');
  rejects(() => encodeEvent('dancing' as never), 'bad-value');
  rejects(() => encodeAnswer('allow', 'no-match' as never), 'bad-value');
});

test('FrameReader reassembles frames split anywhere and several per chunk', () => {
  const frames = [encodeEvent('looking'), encodeEvent('no-face'), encodeAnswer('deny', 'no-match')];
  const all = Buffer.concat(frames);
  for (let split = 1; split <= all.length; split++) {
    const r = new FrameReader();
    const got = [];
    for (let i = 0; i < all.length; i += split) got.push(...r.push(all.subarray(i, i + split)));
    r.end();
    assert.deepEqual(
      got,
      frames.map((f) => decodeFrame(f)),
    );
    assert.equal(r.pending, 0);
  }
});

test('FrameReader rejects a bad header before buffering its payload, and stays failed', () => {
  const r = new FrameReader();
  rejects(() => r.push(frameOf('', 1, 'FGT', 0x7fffffff).subarray(0, 8)), 'oversized');
  assert.equal(r.pending, 0);
  rejects(() => r.push(encodeEvent('looking')), 'oversized');
  rejects(() => r.end(), 'oversized');

  rejects(() => new FrameReader().push(Buffer.from('G')), 'bad-magic'); // first byte is enough
  rejects(() => new FrameReader().push(Buffer.from([0x46, 0x47, 0x54, 9])), 'bad-version');
  const ok = new FrameReader();
  assert.deepEqual(ok.push(Buffer.from('FG')), []);
  assert.equal(ok.pending, 2);
});

test('FrameReader reports a frame cut off by end of stream as truncated', () => {
  const f = encodeAnswer('allow', 'match');
  for (const cut of [1, 7, 8, 9, f.length - 1]) {
    const r = new FrameReader();
    assert.deepEqual(r.push(f.subarray(0, cut)), []);
    assert.ok(r.pending <= MAX_FRAME);
    rejects(() => r.end(), 'truncated');
  }
  const r = new FrameReader();
  assert.equal(r.push(f).length, 1);
  r.end();
});

test('a bad payload inside a reader fails the stream with the payload reason', () => {
  const r = new FrameReader();
  const good = encodeEvent('looking');
  assert.equal(r.push(good).length, 1);
  rejects(() => r.push(frameOf('type=event\nevent=looking\nevent=x\n')), 'duplicate-field');
});
