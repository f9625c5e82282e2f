#!/usr/bin/env node
// Fails a CI run in which any test skipped, except the few below that a CI machine can never run. Reads the
// TAP copy of the test run (.ci/run writes it). A skipped test proves nothing, and the tests that skip are
// usually the ones that matter most (real models, the PAM path), so a skip must be a decision written here.
import fs from 'node:fs';

/** [test name pattern, skip reason pattern, why CI may skip it]. Keep it short; say why for each. */
const ALLOWED = [
  // Whole-dataset measurements: CI has only the 20 images in test/fixtures, never ../shared/datasets.
  [/^facegate eval on 3 ORL people/, /^needs the full orl set/, 'needs whole datasets'],
  [/^LOSO folds on nuaa-dev frames/, /^(nuaa-dev absent|needs the full nuaa-dev set)/, 'needs whole datasets'],
  // Runs a client as "nobody", which must be able to read the checkout: not so when CI clones under a 0700 home.
  [/as nobody|nobody/i, /nobody cannot read/, 'depends on where CI checks out, not on the code'],
  // The load test's clients run under 28 unprivileged uids, which likewise must be able to read the checkout.
  [/^200 clients from 20 uids/, /^other uids cannot read the checkout/, 'depends on where CI checks out, not on the code'],
];

const file = process.argv[2];
if (!file) {
  console.error('usage: check-skips.mjs RESULTS.tap');
  process.exit(2);
}
// Node's TAP: "ok 3 - name # SKIP reason", subtests indented. Test names escape '#' as '\#'.
const SKIP = /^\s*ok \d+ - (.*?) # SKIP(?: (.*))?$/;
const bad = [];
let allowed = 0;
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  const m = SKIP.exec(line);
  if (!m) continue;
  const name = m[1].replace(/\\#/g, '#');
  const reason = m[2] ?? '';
  if (ALLOWED.some(([n, r]) => n.test(name) && r.test(reason))) allowed++;
  else bad.push(`  ${name}: ${reason || '(no reason given)'}`);
}
console.log(`check-skips: ${allowed} allowed skip(s), ${bad.length} not allowed`);
if (bad.length > 0) {
  console.error(`Skipped tests under CI=true (install what they need, or add them to .ci/check-skips.mjs with a reason):\n${bad.join('\n')}`);
  process.exit(1);
}
