// The C codec (pam/protocol.c, via pam/build/fg-decode) and the TS codec (src/protocol) must agree on every
// input: same message or same error code. Inputs: valid frames, the documented error cases and
// deterministic mutations of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import {
  EVENT_CODES,
  ProtocolError,
  REASONS_BY_RESULT,
  RESULTS,
  decodeFrame,
  encodeAnswer,
  encodeEvent,
  encodeRequest,
  encodeReset,
  type Message,
} from '../src/protocol/index.js';
import { FG_DECODE_PATH, buildModule } from './helpers/pam-harness.js';

const hasCc = ['/usr/bin/cc', '/bin/cc', '/usr/local/bin/cc'].some((p) => fs.existsSync(p));

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array | string) => Buffer.from(b as Uint8Array).toString('hex');

/** The TS decoder's verdict in fg-decode's output format. */
function tsVerdict(frame: Buffer): string {
  let m: Message;
  try {
    m = decodeFrame(frame);
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  switch (m.type) {
    case 'request':
      return `ok request user=${hex(Buffer.from(m.user))} service=${hex(Buffer.from(m.service))} tty=${hex(Buffer.from(m.tty))} rhost=${hex(Buffer.from(m.rhost))} deadline_ms=${m.deadlineMs}`;
    case 'reset':
      return `ok reset user=${hex(Buffer.from(m.user))} service=${hex(Buffer.from(m.service))}`;
    case 'event':
      return `ok event ${m.event}`;
    case 'answer':
      return `ok answer ${m.result} ${m.reason}`;
  }
}

function frameOf(payload: Buffer | string, version = 1): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.from([0x46, 0x47, 0x54, version, 0, 0, 0, 0]);
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

function mutate(src: Buffer, rand: () => number): Buffer {
  const b = [...src];
  const interesting = [0, 0x0a, 0x0d, 0x3d, 0x7f, 0x80, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xff, 0x46, 0x5f, 0x41, 1];
  for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
    const at = Math.floor(rand() * (b.length + 1));
    const byte = rand() < 0.6 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
    const op = Math.floor(rand() * 4);
    if (op === 0) b[at] = byte;
    else if (op === 1) b.splice(at, 0, byte);
    else if (op === 2) b.splice(at, 1 + Math.floor(rand() * 4));
    else b.length = at;
  }
  return Buffer.from(b.map((x) => x & 0xff));
}

test('C and TS decoders agree on valid, invalid and mutated frames', { skip: !hasCc && 'no C compiler' }, () => {
  buildModule();
  const seeds: Buffer[] = [
    encodeRequest({ user: 'alice', service: 'sudo', tty: '/dev/pts/3', rhost: '', deadlineMs: 4000 }),
    encodeRequest({ user: 'zoë', service: 'gdm-password', tty: ':0', rhost: 'localhost', deadlineMs: 600000 }),
    encodeReset({ user: 'alice', service: 'sudo' }),
    encodeReset({ user: 'zoë', service: 'facegate-unlock' }),
    frameOf('type=reset\nuser=alice\n'),
    frameOf('type=reset\nuser=alice\nservice=sudo\ntty=\n'),
    frameOf('type=reset\nuser=\nservice=sudo\n'),
    frameOf('type=answer\nresult=ok\nreason=match\n'),
    frameOf('type=answer\nresult=allow\nreason=reset\n'),
    frameOf('type=answer\nresult=deny\nreason=locked-out\n'),
    ...EVENT_CODES.map((e) => encodeEvent(e)),
    ...RESULTS.flatMap((r) => REASONS_BY_RESULT[r].map((why) => encodeAnswer(r, why as never))),
    frameOf('type=event\nevent=looking\n', 2),
    frameOf('type=event\n\nevent=looking\n'),
    frameOf('type=answer\nresult=allow\nreason=no-match\n'),
    frameOf('type=request\nuser=u\nservice=s\ntty=\nrhost=\ndeadline_ms=600001\n'),
    frameOf('type=request\nuser=u\nservice=s\ntty=\nrhost=\ndeadline_ms=0100\n'),
    frameOf(`type=request\nuser=${'u'.repeat(257)}\nservice=s\ntty=\nrhost=\ndeadline_ms=1\n`),
    frameOf(Buffer.from([...Buffer.from('type=event\nevent='), 0xed, 0xa0, 0x80, 0x0a])),
    frameOf(Buffer.from([...Buffer.from('type=event\nevent='), 0xf4, 0x90, 0x80, 0x80, 0x0a])),
    frameOf(Buffer.from([...Buffer.from('type=event\nevent='), 0xe0, 0x9f, 0xbf, 0x0a])),
    frameOf('\ufefftype=event\nevent=looking\n'),
    frameOf(`type=event\n${'k'.repeat(33)}=x\n`),
    frameOf(''),
    Buffer.alloc(0),
    Buffer.from('FG'),
  ];
  const rand = rng(7);
  const inputs = [...seeds];
  for (let i = 0; i < 3000; i++) inputs.push(mutate(seeds[Math.floor(rand() * seeds.length)]!, rand));
  const out = execFileSync(FG_DECODE_PATH, { input: `${inputs.map((b) => hex(b)).join('\n')}\n`, maxBuffer: 64 << 20 })
    .toString()
    .split('\n');
  const verdicts = new Set<string>();
  inputs.forEach((input, i) => {
    const ts = tsVerdict(input);
    verdicts.add(ts.split(' ')[0]!);
    assert.equal(out[i], ts, `input ${i}: ${hex(input)}`);
  });
  assert.ok(verdicts.size >= 10, `mutations too shallow: ${[...verdicts].join(',')}`);
});

test('C and TS encoders produce the same request bytes and refuse the same values', { skip: !hasCc && 'no C compiler' }, () => {
  buildModule();
  const rand = rng(11);
  const alphabet = ['a', 'Z', '0', '=', ' ', '/', 'é', '€', '𝄞', '-', '\n', '\t', '\x7f'];
  const s = (max: number) => {
    let o = '';
    const n = Math.floor(rand() * max);
    for (let i = 0; i < n; i++) o += alphabet[Math.floor(rand() * (rand() < 0.97 ? 10 : alphabet.length))];
    return o;
  };
  const cases: { user: string; service: string; tty: string; rhost: string; deadlineMs: number }[] = [];
  for (let i = 0; i < 500; i++) {
    cases.push({ user: s(12), service: s(6), tty: s(6), rhost: s(10), deadlineMs: Math.floor(rand() * 700_000) });
  }
  cases.push({ user: 'u'.repeat(256), service: 's', tty: '', rhost: 'h'.repeat(1024), deadlineMs: 600000 });
  cases.push({ user: 'u'.repeat(257), service: 's', tty: '', rhost: '', deadlineMs: 1 });
  const lines = cases.map((c) => [c.user, c.service, c.tty, c.rhost, String(c.deadlineMs)].map((f) => hex(f)).join('\t'));
  const out = execFileSync(FG_DECODE_PATH, ['-e'], { input: `${lines.join('\n')}\n` })
    .toString()
    .split('\n');
  let accepted = 0;
  cases.forEach((c, i) => {
    let ts: string;
    try {
      ts = encodeRequest(c).toString('hex');
      accepted++;
    } catch (e) {
      assert.ok(e instanceof ProtocolError);
      ts = 'refused';
    }
    const cOut = /^[0-9a-f]+$/.test(out[i]!) && out[i]!.startsWith('464754') ? out[i] : 'refused';
    assert.equal(cOut, ts, `case ${i}: ${JSON.stringify(c)} C said ${out[i]}`);
  });
  assert.ok(accepted > 50 && accepted < cases.length, `accepted ${accepted} of ${cases.length}`);
});

test('C and TS encoders produce the same reset bytes and refuse the same values', { skip: !hasCc && 'no C compiler' }, () => {
  buildModule();
  const rand = rng(13);
  const alphabet = ['a', 'Z', '0', '=', ' ', '/', 'é', '𝄞', '-', '\n', '\t', '\x7f'];
  const s = (max: number) => {
    let o = '';
    const n = Math.floor(rand() * max);
    for (let i = 0; i < n; i++) o += alphabet[Math.floor(rand() * (rand() < 0.95 ? 9 : alphabet.length))];
    return o;
  };
  const cases: { user: string; service: string }[] = [];
  for (let i = 0; i < 300; i++) cases.push({ user: s(10), service: s(6) });
  cases.push({ user: 'u'.repeat(256), service: 's'.repeat(256) }, { user: 'u'.repeat(257), service: 's' }, { user: 'u', service: '' });
  const out = execFileSync(FG_DECODE_PATH, ['-r'], { input: `${cases.map((c) => `${hex(c.user)}\t${hex(c.service)}`).join('\n')}\n` })
    .toString()
    .split('\n');
  let accepted = 0;
  cases.forEach((c, i) => {
    let ts: string;
    try {
      ts = encodeReset(c).toString('hex');
      accepted++;
    } catch (e) {
      assert.ok(e instanceof ProtocolError);
      ts = 'refused';
    }
    const cOut = /^[0-9a-f]+$/.test(out[i]!) && out[i]!.startsWith('464754') ? out[i] : 'refused';
    assert.equal(cOut, ts, `case ${i}: ${JSON.stringify(c)} C said ${out[i]}`);
  });
  assert.ok(accepted > 50 && accepted < cases.length, `accepted ${accepted} of ${cases.length}`);
});
