// The policy module (src/policy): the local/remote rule against its C twin (pam/policy.c through
// pam/build/fg-policy) on one table, the logind lookups (the caller's session, the user's sessions) on a fake
// /proc and /run/systemd against libsystemd's reading of the same tree, and who may ask for whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  LOCALITIES,
  SESSION_KINDS,
  SESSION_STATES,
  USER_STATES,
  classifyLocality,
  mayAskFor,
  mayReset,
  pamServiceProblems,
  realUidFromStatus,
  remoteFlag,
  sessionFacts,
  sessionIdFromCgroup,
  sessionKind,
  sessionOfPid,
  summariseUser,
  userSessionsOf,
  userSessionsOfPid,
  type Locality,
  type SessionFacts,
  type SessionKind,
  type UserState,
} from '../src/policy/index.js';
import { PAM_DIR, buildModule, pamSkipReason } from './helpers/pam-harness.js';
import { SESSION_FILES, inLogindTree, logindNamespaceSkip, treePaths, writeLogindTree, type LogindTree } from './helpers/logind-tree.js';
import { defaultConfig } from '../src/config/config.js';

const FG_POLICY = path.join(PAM_DIR, 'build', 'fg-policy');

/** rhost values: the localhost spellings the old rule exempted, real hosts, odd bytes PAM could carry. */
const RHOSTS = ['', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain', 'LOCALHOST', ' ', '0', 'far.example', '203.0.113.9', 'é', ':0', 'x'.repeat(300)];
/** TYPE= values: logind's own, and spellings it never writes (they must not count as a terminal or desktop). */
const TYPES = ['tty', 'x11', 'wayland', 'mir', 'unspecified', 'web', '', 'TTY', 'wayland '];

/** Runs question lines through pam/build/fg-policy; one answer line each. */
function askC(lines: string[], wrap: string[] = []): string[] {
  const [cmd, ...args] = [...wrap, FG_POLICY];
  const out = execFileSync(cmd!, args, { input: `${lines.join('\n')}\n` })
    .toString()
    .trimEnd()
    .split('\n');
  assert.equal(out.length, lines.length);
  return out;
}

const bit = (b: boolean): string => (b ? '1' : '0');

test('C and TS apply the same local/remote rule to every rhost x session x greeter x user sessions', { skip: pamSkipReason() ?? false }, () => {
  buildModule();
  const rows = RHOSTS.flatMap((rhost) =>
    SESSION_STATES.flatMap((session) => [false, true].flatMap((greeter) => USER_STATES.map((user) => ({ rhost, session, greeter, user })))),
  );
  const out = askC(rows.map((r) => `classify\t${Buffer.from(r.rhost).toString('hex')}\t${r.session}\t${bit(r.greeter)}\t${r.user}`));
  const seen = new Set<Locality>();
  rows.forEach((r, i) => {
    const ts = classifyLocality(r);
    seen.add(ts);
    assert.equal(out[i], ts, `C and TS differ on ${JSON.stringify(r)}`);
  });
  assert.equal(rows.length, 13 * 4 * 2 * 4);
  assert.deepEqual([...seen].sort(), [...LOCALITIES].sort(), 'the table reaches every outcome');
});

test('C and TS give every session the same kind: remote flag x remote host x seat x active x type', { skip: pamSkipReason() ?? false }, () => {
  buildModule();
  const rows: SessionFacts[] = [];
  for (let m = 0; m < 16; m++) {
    for (const type of TYPES) rows.push({ remote: (m & 1) !== 0, remoteHost: (m & 2) !== 0, seat: (m & 4) !== 0, active: (m & 8) !== 0, type });
  }
  const out = askC(rows.map((f) => `kind\t${bit(f.remote)}\t${bit(f.remoteHost)}\t${bit(f.seat)}\t${bit(f.active)}\t${f.type}`));
  const seen = new Set<SessionKind>();
  rows.forEach((f, i) => {
    const ts = sessionKind(f);
    seen.add(ts);
    assert.equal(out[i], ts, `C and TS differ on ${JSON.stringify(f)}`);
  });
  assert.deepEqual([...seen].sort(), [...SESSION_KINDS].sort(), 'the table reaches every kind');
});

test('C and TS summarise every list of up to three session kinds the same way', { skip: pamSkipReason() ?? false }, () => {
  buildModule();
  const lists: SessionKind[][] = [[]];
  for (let len = 1; len <= 3; len++) {
    for (let m = 0; m < SESSION_KINDS.length ** len; m++) {
      lists.push(Array.from({ length: len }, (_, k) => SESSION_KINDS[Math.floor(m / SESSION_KINDS.length ** k) % SESSION_KINDS.length]!));
    }
  }
  const out = askC(lists.map((l) => `summary\t${l.join(',')}`));
  const seen = new Set<UserState>();
  lists.forEach((l, i) => {
    const ts = summariseUser(l);
    seen.add(ts);
    assert.equal(out[i], ts, `C and TS differ on [${l.join(',')}]`);
  });
  assert.equal(lists.length, 1 + 4 + 16 + 64);
  assert.deepEqual([...seen].sort(), ['local', 'none', 'remote'], 'a read list is never an error');
});

test('the rule: any rhost is remote, localhost included; no session is remote unless a greeter or the user is only local', () => {
  for (const rhost of ['localhost', '127.0.0.1', '::1', 'localhost.localdomain']) {
    assert.equal(classifyLocality({ rhost, session: 'local', greeter: true, user: 'local' }), 'remote-host', rhost);
    assert.equal(classifyLocality({ rhost, session: 'none', greeter: false, user: 'local' }), 'remote-host', rhost);
  }
  const rule = (session: (typeof SESSION_STATES)[number], greeter: boolean, user: UserState): Locality =>
    classifyLocality({ rhost: '', session, greeter, user });
  assert.equal(rule('local', false, 'remote'), 'local', "a local session of its own decides; the user's others are not read");
  assert.equal(rule('remote', true, 'local'), 'remote-session');
  // A desktop terminal (a user unit, no session) of a user sitting at the seat, logged in nowhere else.
  assert.equal(rule('none', false, 'local'), 'local');
  // systemd-run --user --pty / tmux reached over SSH, or the same user logged in both at the seat and over SSH.
  assert.equal(rule('none', false, 'remote'), 'user-remote');
  // No active session on a seat: the seat shows someone else, or the user is not logged in there at all.
  assert.equal(rule('none', false, 'none'), 'no-session');
  assert.equal(rule('none', false, 'error'), 'no-session');
  // A failed lookup of the caller's own session is never looked past, whatever the user's sessions say.
  assert.equal(rule('error', false, 'local'), 'no-session');
  // Greeters as before: outside a session, and whatever the user's sessions (they are not read for them).
  for (const user of USER_STATES) {
    assert.equal(rule('none', true, user), 'local');
    assert.equal(rule('error', true, user), 'local');
  }
});

test("a session's kind: remote by flag, by any remote host, or as a seatless login; seat-active only in front of a seat", () => {
  const kindOf = (name: keyof typeof SESSION_FILES): SessionKind | null => {
    const f = sessionFacts(SESSION_FILES[name]);
    return f === null ? null : sessionKind(f);
  };
  assert.equal(kindOf('desktop'), 'seat-active');
  assert.equal(kindOf('vt'), 'seat-active');
  assert.equal(kindOf('desktopInactive'), 'seat-inactive');
  assert.equal(kindOf('ssh'), 'remote');
  assert.equal(kindOf('sshLocalhost'), 'remote', 'logind says REMOTE=0 for a localhost host; a tunnel arrives from there');
  assert.equal(kindOf('sshClosing'), 'remote');
  assert.equal(kindOf('seatlessTty'), 'remote');
  assert.equal(kindOf('manager'), 'other');
  assert.equal(kindOf('seatWithHost'), 'remote');
  assert.equal(kindOf('remoteYes'), 'remote');
  assert.equal(kindOf('noType'), null);
  assert.equal(kindOf('badActive'), null);
  // An active session on a seat that is not a terminal or a desktop is nobody typing.
  assert.equal(sessionKind({ remote: false, remoteHost: false, seat: true, active: true, type: 'unspecified' }), 'seat-inactive');
  assert.deepEqual(summariseUser(['seat-active', 'other']), 'local');
  assert.deepEqual(summariseUser(['seat-active', 'seat-inactive', 'remote']), 'remote');
  assert.deepEqual(summariseUser(['seat-inactive', 'other']), 'none');
  assert.deepEqual(summariseUser([]), 'none');
});

/** uid -> (sessions of that uid, what both ends must read from them). */
const USER_CASES: [number, LogindTree['users'][number], UserState][] = [
  [1000, null, 'none'], // no user file: not logged in anywhere
  [1001, { raw: 'SESSIONS=\n' }, 'none'],
  [1002, ['2'], 'local'],
  [1003, ['5'], 'none'],
  [1004, ['c7'], 'remote'],
  [1005, ['2', 'c7'], 'remote'],
  [1006, ['2', 'c8'], 'remote'],
  [1007, ['2', 'c9'], 'remote'],
  [1008, ['2', 'c10'], 'remote'],
  [1009, ['2', 'm1'], 'local'],
  [1010, ['3'], 'local'],
  [1011, ['2', '99'], 'error'], // listed, file gone
  [1012, ['2', 'e1'], 'error'],
  [1013, ['2', 'e2'], 'error'],
  [1014, ['2', 'c11'], 'remote'],
  [1015, ['5', 'm1'], 'none'],
  [1016, { raw: 'SESSIONS=2  m1 \n' }, 'local'],
  [1017, { raw: 'SESSIONS=../sessions/2\n' }, 'error'],
  [1018, { raw: 'SESSIONS=c7\nSESSIONS=2\n' }, 'local'], // the last assignment wins, as in sd-login
  [1020, ['s9'], 'remote'],
];
const SESSIONS: LogindTree['sessions'] = {
  '2': 'desktop',
  '3': 'vt',
  '5': 'desktopInactive',
  c7: 'ssh',
  c8: 'sshLocalhost',
  c9: 'sshClosing',
  c10: 'seatlessTty',
  c11: 'remoteYes',
  m1: 'manager',
  s9: 'seatWithHost',
  e1: 'noType',
  e2: 'badActive',
};

test("the user's sessions on a fake /run/systemd/users and sessions", () => {
  const root = writeLogindTree({ users: Object.fromEntries(USER_CASES.map(([uid, ids]) => [uid, ids])), sessions: SESSIONS });
  try {
    const paths = treePaths(root);
    for (const [uid, , want] of USER_CASES) assert.equal(userSessionsOf(uid, paths), want, `uid ${uid}`);
    assert.equal(userSessionsOf(-1, paths), 'error');
    assert.equal(userSessionsOf(0xffffffff, paths), 'error');
    fs.mkdirSync(path.join(paths.users, '1019'));
    assert.equal(userSessionsOf(1019, paths), 'error', 'an unreadable user file');
    // The uid is this process's real one, from /proc/PID/status.
    const me = process.getuid?.() ?? 0;
    fs.writeFileSync(path.join(paths.users, String(me)), 'SESSIONS=2 c7\n');
    assert.equal(userSessionsOfPid(process.pid, paths), 'remote');
    fs.writeFileSync(path.join(paths.users, String(me)), 'SESSIONS=2\n');
    assert.equal(userSessionsOfPid(process.pid, paths), 'local');
    assert.equal(userSessionsOfPid(0, paths), 'error');
    assert.equal(userSessionsOfPid(2 ** 22 + 12345, paths), 'error', 'a process that left');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the real uid of /proc/PID/status, not the effective one (a set-uid sudo)', () => {
  assert.equal(realUidFromStatus('Name:\tsudo\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n'), 1000);
  assert.equal(realUidFromStatus('Name:\tx\nGid:\t0\t0\t0\t0\n'), null);
  assert.equal(realUidFromStatus('Uid:\t4294967295\t0\t0\t0\n'), null);
});

test("C (libsystemd's sd-login) and TS read the same fake logind tree the same way", { skip: pamSkipReason() ?? logindNamespaceSkip() ?? false }, () => {
  buildModule();
  const root = writeLogindTree({ users: Object.fromEntries(USER_CASES.map(([uid, ids]) => [uid, ids])), sessions: SESSIONS });
  try {
    const out = askC(
      USER_CASES.map(([uid]) => `lookup\t${uid}`),
      inLogindTree(root),
    );
    // fg-policy is a child of this process, in the same cgroup: its own session is what the TS lookup finds here.
    const own = sessionOfPid(process.pid);
    USER_CASES.forEach(([uid, , want], i) => {
      assert.equal(out[i], `${own} ${want}`, `uid ${uid}`);
      assert.equal(userSessionsOf(uid, treePaths(root)), want, `uid ${uid} (TS)`);
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
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
  assert.equal(remoteFlag('REMOTE=yes\n'), true, 'parse_boolean() spellings, as sd_session_is_remote reads them');
  assert.equal(remoteFlag('REMOTE=maybe\n'), null);
  assert.equal(remoteFlag('REMOTE=\n'), null);
});

test('sessionOfPid on a fake /proc and /run/systemd/sessions fails closed', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sess-'));
  try {
    const paths = { proc: path.join(root, 'proc'), sessions: path.join(root, 'sessions'), users: path.join(root, 'users') };
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
    proc(15, '0::/user.slice/user-1000.slice/session-8.scope\n');
    proc(16, '0::/user.slice/user-1000.slice/session-4.scope\n');
    fs.writeFileSync(path.join(paths.sessions, '2'), SESSION_FILES.vt);
    fs.writeFileSync(path.join(paths.sessions, '5'), SESSION_FILES.ssh);
    fs.writeFileSync(path.join(paths.sessions, '6'), 'UID=1000\n');
    fs.writeFileSync(path.join(paths.sessions, '8'), SESSION_FILES.sshLocalhost);
    fs.writeFileSync(path.join(paths.sessions, '4'), SESSION_FILES.desktopInactive);
    assert.equal(sessionOfPid(10, paths), 'local');
    assert.equal(sessionOfPid(11, paths), 'remote');
    assert.equal(sessionOfPid(12, paths), 'none');
    assert.equal(sessionOfPid(13, paths), 'error');
    assert.equal(sessionOfPid(14, paths), 'error');
    assert.equal(sessionOfPid(15, paths), 'remote', 'ssh through a tunnel: REMOTE=0 but a remote host');
    assert.equal(sessionOfPid(16, paths), 'local', 'a session of its own on a seat, even switched away from');
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

test("doctor's PAM file check names what disagrees with the policy", () => {
  const cfg = defaultConfig();
  const line = (opts = '') => `auth sufficient pam_facegate.so${opts}\n@include common-auth\n`;
  const acct = 'account optional pam_facegate.so\n';
  assert.deepEqual(pamServiceProblems('sudo', line() + acct, cfg), []);
  assert.deepEqual(pamServiceProblems('gdm-password', line(' greeter notice') + acct, cfg), []);
  assert.deepEqual(pamServiceProblems('sudo', '# auth sufficient pam_facegate.so\n', cfg), [], 'a commented line is not a use');
  assert.match(pamServiceProblems('sshd', line() + acct, cfg).join('\n'), /sshd: not enabled in \[services\]/);
  assert.match(pamServiceProblems('sudo', line(' greeter') + acct, cfg).join('\n'), /sudo: the PAM line says greeter but \[local\] greeters does not list it/);
  assert.match(
    pamServiceProblems('gdm-password', line() + acct, cfg).join('\n'),
    /gdm-password: listed in \[local\] greeters but its PAM line lacks the greeter option/,
  );
  assert.match(pamServiceProblems('sudo', line(), cfg).join('\n'), /no "account optional pam_facegate.so" line/);
});

test('the PAM module does not build without libsystemd, and says what to install', { skip: pamSkipReason() ?? false }, () => {
  // -n: evaluate the Makefile without building; PKG_CONFIG=false stands for a machine without libsystemd-dev.
  const r = spawnSync('make', ['-n', '-C', PAM_DIR, 'PKG_CONFIG=false'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /libsystemd not found by pkg-config: install libsystemd-dev/);
  assert.equal(spawnSync('make', ['-n', '-C', PAM_DIR], { encoding: 'utf8' }).status, 0, 'and builds with it');
});
