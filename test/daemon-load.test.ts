// Fair under load (issue 7): 200 concurrent PAM requests from 20 real uids plus 64 half-open connections that sent
// garbage, then root asks. Asserts behaviour only: every request is answered before the PAM module would give up,
// at most one verification per user runs, the garbage is dropped by the daemon, and root is served (its face is
// the one at the camera, so it is allowed) although 20 verifications were already queued. Figures: bench/load.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSkipReason, runLoad } from './helpers/load-harness.js';

test('200 clients from 20 uids and 64 garbage connections: everyone answered, one verification per user, root served', {
  skip: loadSkipReason() ?? false,
  timeout: 120_000,
}, async () => {
  // The PAM module's timeout=8 against verify.timeout = 4: the daemon ends every verification at 4 s, and the slack
  // keeps this a test of behaviour, not of how fast a shared machine schedules 30 processes.
  const r = await runLoad({ uids: 20, perUid: 10, garbage: 64, deadlineMs: 8000, verifyTimeout: 4 });
  assert.equal(r.clients, 200);
  assert.equal(r.unanswered, 0, JSON.stringify(r.outcomes));
  // Answered before the deadline by the daemon's own clock (from accept; connections refused over their share are
  // answered at accept): on a starved machine the clients' own timers can fire late, so their count of late
  // answers (r.late) is reported by bench/load.ts, not asserted.
  assert.ok(r.daemon_answer_ms_max < 8000, `the daemon answered a request after ${r.daemon_answer_ms_max} ms`);
  for (const outcome of Object.keys(r.outcomes)) assert.match(outcome, /^(unavailable\/busy|deny\/no-match|late)$/, outcome);
  assert.ok(r.per_uid_verified_max <= 1, `a uid had ${r.per_uid_verified_max} verifications`);
  assert.equal(r.root_result, 'allow/match');
  assert.equal(r.garbage_closed_by_server, 64, 'every half-open connection is dropped by the daemon');
  assert.equal(r.garbage_still_open, 0);
});
