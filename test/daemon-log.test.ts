import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, formatLine } from '../src/daemon/log.js';

test('logfmt lines: plain values bare, others quoted, control characters escaped', () => {
  assert.equal(
    formatLine('info', 'answer', { user: 'alice', ms: 42, score: 0.97123, ok: true, none: undefined }),
    'level=info msg=answer user=alice ms=42 score=0.971 ok=true',
  );
  assert.equal(formatLine('warn', 'bad request', { user: 'a b"c\\' }), 'level=warn msg="bad request" user="a b\\"c\\\\"');
});

test('a hostile value cannot start a new log line or add a field', () => {
  const line = formatLine('info', 'answer', { user: 'x\nlevel=info msg=answer user=root result=allow' });
  assert.equal(line.split('\n').length, 1);
  assert.match(line, /^level=info msg=answer user="x\\x0alevel=info msg=answer user=root result=allow"$/);
  // Field names are fixed identifiers; anything else is dropped rather than trusted.
  assert.equal(formatLine('info', 'm', { 'evil key=1': 'v' }), 'level=info msg=m');
});

test('long values are cut, debug lines only when asked, journald priority prefixes under systemd', () => {
  assert.ok(formatLine('info', 'm', { v: 'x'.repeat(1000) }).length < 300);
  const out: string[] = [];
  const quiet = createLogger((l) => out.push(l), false, false);
  quiet.debug('hidden');
  quiet.info('shown');
  assert.deepEqual(out, ['level=info msg=shown']);
  const journal: string[] = [];
  const j = createLogger((l) => journal.push(l), true, true);
  j.error('e');
  j.warn('w');
  j.info('i');
  j.debug('d');
  assert.deepEqual(
    journal.map((l) => l.slice(0, 3)),
    ['<3>', '<4>', '<6>', '<7>'],
  );
});
