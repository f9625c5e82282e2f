// Least privilege on the daemon's runtime files (issue 7): the socket directory is refused when others could
// replace what is in it, the status file is created new without following symlinks, and passwd look-ups have
// asynchronous twins that agree with the synchronous ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPrivateDir } from '../src/daemon/runtime-dir.js';
import { readStatus, statusFileFor, writeStatus, type DaemonStatus } from '../src/daemon/status-file.js';
import { uidOfUserName, uidOfUserNameAsync, userNameOfUid, userNameOfUidAsync } from '../src/daemon/peercred.js';

const STATUS: DaemonStatus = { pid: 1, started: '', ready_ms: 1, socket: '', socket_activated: false, camera: 'x', models: [], target_far: 1e-4 };

test('checkPrivateDir refuses directories others could write to, symlinks and foreign owners', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rundir-'));
  try {
    const ok = path.join(dir, 'ok');
    fs.mkdirSync(ok, { mode: 0o755 });
    fs.chmodSync(ok, 0o755);
    checkPrivateDir(ok);
    fs.chmodSync(ok, 0o777);
    assert.throws(() => checkPrivateDir(ok), /writable by everyone/);
    fs.chmodSync(ok, 0o1777);
    assert.throws(() => checkPrivateDir(ok), /writable by everyone/, 'sticky /tmp-like directories too');
    fs.chmodSync(ok, 0o775);
    assert.throws(() => checkPrivateDir(ok), /writable by its group/);
    fs.chmodSync(ok, 0o755);
    fs.symlinkSync(ok, path.join(dir, 'link'));
    assert.throws(() => checkPrivateDir(path.join(dir, 'link')), /symbolic link/);
    assert.throws(() => checkPrivateDir(path.join(dir, 'missing')), /ENOENT/);
    if (process.getuid?.() === 0) {
      fs.chownSync(ok, 65534, 65534);
      assert.throws(() => checkPrivateDir(ok), /owned by uid 65534/);
      checkPrivateDir(ok, 65534); // the daemon's own user may own it
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the status file is created new without following a planted symlink, then renamed into place', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-status-'));
  try {
    const sock = path.join(dir, 'facegate.sock');
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'keep');
    // Someone guessed the temporary name and pointed it at a file of theirs (or of root's).
    fs.symlinkSync(victim, `${statusFileFor(sock)}.${process.pid}.tmp`);
    const file = writeStatus(sock, STATUS);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'keep', 'the symlink target is untouched');
    assert.ok(!fs.lstatSync(file).isSymbolicLink());
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    assert.equal(readStatus(sock)?.pid, 1);
    // A symlink at the final name is replaced by the rename, not written through.
    fs.rmSync(file);
    fs.symlinkSync(victim, file);
    writeStatus(sock, STATUS);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'keep');
    assert.ok(!fs.lstatSync(file).isSymbolicLink());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('passwd look-ups: name to uid, and asynchronous twins that agree with the synchronous ones', async () => {
  const me = os.userInfo();
  assert.equal(uidOfUserName(me.username), me.uid);
  assert.equal(uidOfUserName('no-such-user-facegate'), null);
  assert.equal(await uidOfUserNameAsync(me.username), me.uid);
  assert.equal(await uidOfUserNameAsync('no-such-user-facegate'), null);
  assert.equal(await userNameOfUidAsync(me.uid), userNameOfUid(me.uid));
  assert.equal(await userNameOfUidAsync(4_000_000_000), null);
  await assert.rejects(userNameOfUidAsync(-1), /bad uid/);
  assert.throws(() => uidOfUserName(''), /bad user name/);
});
