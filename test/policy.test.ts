// The policy module (src/policy): the local/remote rule against its C twin (pam/policy.c through
// pam/build/fg-policy) on one table, the logind session lookup on a fake /proc and /run/systemd/sessions, and
// who may ask for whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  LOCALITIES,
  SESSION_STATES,
  classifyLocality,
  mayAskFor,
  mayReset,
  pamServiceProblems,
  remoteFlag,
  sessionIdFromCgroup,
  sessionOfPid,
  type Locality,
} from '../src/policy/index.js';
import { PAM_DIR, buildModule, pamSkipReason } from './helpers/pam-harness.js';
import { defaultConfig } from '../src/config/config.js';

const FG_POLICY = path.join(PAM_DIR, 'build', 'fg-policy');

/** rhost values: the localhost spellings the old rule exempted, real hosts, odd bytes PAM could carry. */
const RHOSTS = ['', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain', 'LOCALHOST', ' ', '0', 'far.example', '203.0.113.9', 'é', ':0', 'x'.repeat(300)];

test('C and TS apply the same local/remote rule to every rhost x session x greeter', { skip: pamSkipReason() ?? false }, () => {
  buildModule();
  const rows = RHOSTS.flatMap((rhost) => SESSION_STATES.flatMap((session) => [false, true].map((greeter) => ({ rhost, session, greeter }))));
  const input = rows.map((r) => `${Buffer.from(r.rhost).toString('hex')}\t${r.session}\t${r.greeter ? 1 : 0}`).join('\n') + '\n';
  const out = execFileSync(FG_POLICY, { input }).toString().trimEnd().split('\n');
  assert.equal(out.length, rows.length);
  const seen = new Set<Locality>();
  rows.forEach((r, i) => {
    const ts = classifyLocality(r);
    seen.add(ts);
    assert.equal(out[i], ts, `C and TS differ on ${JSON.stringify(r)}`);
  });
  assert.deepEqual([...seen].sort(), [...LOCALITIES].sort(), 'the table reaches every outcome');
});

test('the rule: any rhost is remote, localhost included; no session is remote unless the service is a greeter', () => {
  for (const rhost of ['localhost', '127.0.0.1', '::1', 'localhost.localdomain']) {
    assert.equal(classifyLocality({ rhost, session: 'local', greeter: true }), 'remote-host', rhost);
  }
  assert.equal(classifyLocality({ rhost: '', session: 'local', greeter: false }), 'local');
  assert.equal(classifyLocality({ rhost: '', session: 'remote', greeter: true }), 'remote-session');
  assert.equal(classifyLocality({ rhost: '', session: 'none', greeter: false }), 'no-session');
  assert.equal(classifyLocality({ rhost: '', session: 'error', greeter: false }), 'no-session');
  assert.equal(classifyLocality({ rhost: '', session: 'none', greeter: true }), 'local');
  assert.equal(classifyLocality({ rhost: '', session: 'error', greeter: true }), 'local');
});

test('session id from /proc/PID/cgroup, as sd_pid_get_session finds it', () => {
  assert.equal(sessionIdFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n'), '3');
  assert.equal(sessionIdFromCgroup('0::/user.slice/user-1000.slice/session-c12.scope\n'), 'c12');
  // A user unit (systemd-run --user, tmux started as a service) is outside any session.
  assert.equal(sessionIdFromCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.scope\n'), null);
  assert.equal(sessionIdFromCgroup('0::/system.slice/gdm.service\n'), null);
  // The first unit decides: a session scope nested below a service does not make it a session.
  assert.equal(sessionIdFromCgroup('0::/system.slice/x.service/session-4.scope\n'), null);
  assert.equal(sessionIdFromCgroup('0::/\n'), null);
  // cgroup v1: systemd's own hierarchy.
  assert.equal(sessionIdFromCgroup('12:cpu:/\n1:name=systemd:/user.slice/user-0.slice/session-7.scope\n'), '7');
  assert.equal(sessionIdFromCgroup(''), null);
  assert.equal(sessionIdFromCgroup('0::/user.slice/user-1000.slice/session-../x.scope\n'), null);
});

test('REMOTE= of a session file; anything unclear is an error', () => {
  assert.equal(remoteFlag('# This is private data. Do not parse.\nUID=1000\nREMOTE=0\nTYPE=wayland\n'), false);
  assert.equal(remoteFlag('UID=1000\nREMOTE=1\nREMOTE_HOST=far.example\n'), true);
  assert.equal(remoteFlag('UID=1000\n'), null);
  assert.equal(remoteFlag('REMOTE=yes\n'), null);
});

test('sessionOfPid on a fake /proc and /run/systemd/sessions fails closed', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sess-'));
  try {
    const paths = { proc: path.join(root, 'proc'), sessions: path.join(root, 'sessions') };
    fs.mkdirSync(paths.sessions, { recursive: true });
    const proc = (pid: number, cgroup: string): void => {
      fs.mkdirSync(path.join(paths.proc, String(pid)), { recursive: true });
      fs.writeFileSync(path.join(paths.proc, String(pid), 'cgroup'), cgroup);
    };
    proc(10, '0::/user.slice/user-1000.slice/session-2.scope\n');
    proc(11, '0::/user.slice/user-1000.slice/session-5.scope\n');
    proc(12, '0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-u1.service\n');
    proc(13, '0::/user.slice/user-1000.slice/session-9.scope\n'); // session file missing
    proc(14, '0::/user.slice/user-1000.slice/session-6.scope\n');
    fs.writeFileSync(path.join(paths.sessions, '2'), 'UID=1000\nREMOTE=0\n');
    fs.writeFileSync(path.join(paths.sessions, '5'), 'UID=1000\nREMOTE=1\nREMOTE_HOST=203.0.113.9\n');
    fs.writeFileSync(path.join(paths.sessions, '6'), 'UID=1000\n');
    assert.equal(sessionOfPid(10, paths), 'local');
    assert.equal(sessionOfPid(11, paths), 'remote');
    assert.equal(sessionOfPid(12, paths), 'none');
    assert.equal(sessionOfPid(13, paths), 'error');
    assert.equal(sessionOfPid(14, paths), 'error');
    assert.equal(sessionOfPid(99, paths), 'error', 'a process that left');
    assert.equal(sessionOfPid(0, paths), 'error', 'pid unknown (D-Bus across namespaces)');
    assert.equal(sessionOfPid(-1, paths), 'error');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('who may ask for whom, and who may reset a counter', () => {
  const names = (uid: number): string | null => ({ 1000: 'alice', 1001: 'bob' })[uid] ?? null;
  assert.equal(mayAskFor(0, 'alice', names), true);
  assert.equal(mayAskFor(1000, 'alice', names), true);
  assert.equal(mayAskFor(1000, 'bob', names), false);
  assert.equal(mayAskFor(4242, 'alice', names), false);
  assert.equal(mayReset(0), true);
  assert.equal(mayReset(1000), false);
});

test('doctor\'s PAM file check names what disagrees with the policy', () => {
  const cfg = defaultConfig();
  const line = (opts = '') => `auth sufficient pam_facegate.so${opts}\n@include common-auth\n`;
  const acct = 'account optional pam_facegate.so\n';
  assert.deepEqual(pamServiceProblems('sudo', line() + acct, cfg), []);
  assert.deepEqual(pamServiceProblems('gdm-password', line(' greeter notice') + acct, cfg), []);
  assert.deepEqual(pamServiceProblems('sudo', '# auth sufficient pam_facegate.so\n', cfg), [], 'a commented line is not a use');
  assert.match(pamServiceProblems('sshd', line() + acct, cfg).join('\n'), /sshd: not enabled in \[services\]/);
  assert.match(pamServiceProblems('sudo', line(' greeter') + acct, cfg).join('\n'), /sudo: the PAM line says greeter but \[local\] greeters does not list it/);
  assert.match(pamServiceProblems('gdm-password', line() + acct, cfg).join('\n'), /gdm-password: listed in \[local\] greeters but its PAM line lacks the greeter option/);
  assert.match(pamServiceProblems('sudo', line(), cfg).join('\n'), /no "account optional pam_facegate.so" line/);
});

test('the PAM module does not build without libsystemd, and says what to install', { skip: pamSkipReason() ?? false }, () => {
  // -n: evaluate the Makefile without building; PKG_CONFIG=false stands for a machine without libsystemd-dev.
  const r = spawnSync('make', ['-n', '-C', PAM_DIR, 'PKG_CONFIG=false'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /libsystemd not found by pkg-config: install libsystemd-dev/);
  assert.equal(spawnSync('make', ['-n', '-C', PAM_DIR], { encoding: 'utf8' }).status, 0, 'and builds with it');
});
