import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

const unitDir = path.join(PACKAGE_ROOT, 'systemd');
const units = ['facegate.socket', 'facegate.service'].map((u) => path.join(unitDir, u));
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const noAnalyze = analyze.status !== 0 && 'systemd-analyze is not installed';

test('systemd-analyze verify accepts the units without a single warning', { skip: noAnalyze }, () => {
  const res = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  // verify only warns (exit 0) on unknown keys and bad values; any output means something is ignored.
  assert.equal(res.stderr.trim(), '');
  assert.equal(res.stdout.trim(), '');
});

test('the service is hardened and the socket is world-connectable', () => {
  const service = fs.readFileSync(units[1]!, 'utf8');
  for (const line of [
    'ProtectSystem=strict',
    'PrivateNetwork=yes',
    'NoNewPrivileges=yes',
    'DeviceAllow=char-video4linux rw',
    'DevicePolicy=closed',
    'ReadWritePaths=/var/lib/facegate',
    'RuntimeDirectory=facegate',
    'CapabilityBoundingSet=',
    'ProtectHome=yes',
    'RestrictAddressFamilies=AF_UNIX',
    // Least privilege (issue 7): a dedicated user in the video group, never root.
    'User=facegate',
    'Group=facegate',
    'SupplementaryGroups=video',
    'StateDirectory=facegate',
    'StateDirectoryMode=0700',
  ]) {
    assert.ok(service.split('\n').includes(line), `facegate.service lacks ${line}`);
  }
  assert.doesNotMatch(service, /^User=root$/m);
  const socket = fs.readFileSync(units[0]!, 'utf8');
  assert.match(socket, /^ListenStream=\/run\/facegate\/facegate\.sock$/m);
  assert.match(socket, /^SocketMode=0666$/m);
});
