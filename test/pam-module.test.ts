// The real module in a real libpam stack, no root, against a scripted fake daemon: most cases through
// pam/build/fg-pam-run (exact PAM codes, private service dir, safe in parallel), and the main ones again
// through pamtester under pam_wrapper, the way an administrator would try it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';
import { encodeAnswer, encodeEvent, type Request } from '../src/protocol/index.js';
import { classifyLocality, sessionOfPid, userSessionsOfPid } from '../src/policy/index.js';
import { inLogindTree, logindNamespaceSkip, writeLogindTree, type LogindTree } from './helpers/logind-tree.js';
import {
  FakeDaemon,
  MODULE_PATH,
  buildModule,
  moduleArgs,
  startDaemonAs,
  type ForeignDaemon,
  pamSkipReason,
  pamtesterSkipReason,
  runPam,
  runPamtester,
  tempDir,
  type Script,
} from './helpers/pam-harness.js';

const skip = pamSkipReason();
const PERMIT =
  ['/usr/lib/x86_64-linux-gnu/security/pam_permit.so', '/lib/x86_64-linux-gnu/security/pam_permit.so', '/usr/lib/security/pam_permit.so'].find((p) =>
    fs.existsSync(p),
  ) ?? '';
const python3 = !spawnSync('python3', ['-c', '']).error;
// Generous sanity limit: proves the call returned instead of hanging, not a latency target (see bench/).
const SANITY_MS = 10_000;

function header(length: number, version = 1, magic = 'FGT'): Buffer {
  const h = Buffer.alloc(8);
  h.write(magic, 0, 'latin1');
  h[3] = version;
  h.writeUInt32BE(length, 4);
  return h;
}
const rawFrame = (payload: string | Buffer): Buffer => {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([header(p.length), p]);
};

describe('pam_facegate in a PAM stack', { skip: skip ?? false }, () => {
  let dir: string;
  let sock: string;
  let daemon: FakeDaemon;
  const script = (s: Script) => (daemon.script = s);
  const args = (...extra: string[]) => [`socket=${sock}`, 'timeout=1', ...extra];

  before(async () => {
    buildModule();
    dir = tempDir();
    sock = path.join(dir, 'facegate.sock');
    daemon = await FakeDaemon.start(sock, () => {});
  });
  after(async () => {
    await daemon.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('allow -> PAM_SUCCESS, and the request carries the PAM items', async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    const before = daemon.requests.length;
    const r = await runPam({ args: args(), user: 'alice', tty: '/dev/pts/7', rhost: '' });
    assert.equal(r.code, 'PAM_SUCCESS', r.stderr);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(daemon.requests.slice(before), [
      { type: 'request', user: 'alice', service: 'facegate-test', tty: '/dev/pts/7', rhost: '', deadlineMs: 1000 },
    ]);
  });

  test('deny -> PAM_AUTH_ERR; unavailable -> PAM_AUTHINFO_UNAVAIL', async () => {
    script((_r, s) => void s.end(encodeAnswer('deny', 'no-match')));
    assert.equal((await runPam({ args: args() })).code, 'PAM_AUTH_ERR');
    script((_r, s) => void s.end(encodeAnswer('deny', 'not-live')));
    assert.equal((await runPam({ args: args() })).code, 'PAM_AUTH_ERR');
    script((_r, s) => void s.end(encodeAnswer('unavailable', 'no-templates')));
    assert.equal((await runPam({ args: args() })).code, 'PAM_AUTHINFO_UNAVAIL');
    script((_r, s) => void s.end(encodeAnswer('unavailable', 'camera-error')));
    assert.equal((await runPam({ args: args() })).code, 'PAM_AUTHINFO_UNAVAIL');
  });

  test('events before the answer are read and the answer still counts', async () => {
    script((_r, s) => {
      for (const e of ['queued', 'looking', 'no-face', 'too-dark', 'too-far', 'blurry', 'retry'] as const) {
        s.write(encodeEvent(e));
      }
      s.end(encodeAnswer('allow', 'match'));
    });
    const r = await runPam({ args: args() });
    assert.equal(r.code, 'PAM_SUCCESS', r.stderr);
    assert.deepEqual(r.info, [], 'without notice nothing is shown');
  });

  test('notice relays progress as text, dropping consecutive duplicates', async () => {
    script((_r, s) => {
      for (const e of ['looking', 'no-face', 'no-face', 'no-face', 'too-dark', 'retry'] as const) s.write(encodeEvent(e));
      s.end(encodeAnswer('deny', 'no-match'));
    });
    const r = await runPam({ args: args('notice') });
    assert.equal(r.code, 'PAM_AUTH_ERR', r.stderr);
    assert.deepEqual(r.info, ['Looking for your face…', 'No face detected', 'Too dark, face the camera', 'Face not recognised, trying again…']);
  });

  test('notice stays quiet under PAM_SILENT', async () => {
    script((_r, s) => {
      s.write(encodeEvent('looking'));
      s.end(encodeAnswer('allow', 'match'));
    });
    const r = await runPam({ args: args('notice'), silent: true });
    assert.equal(r.code, 'PAM_SUCCESS', r.line);
    assert.deepEqual(r.info, []);
  });

  test('a daemon whose listen backlog is full: PAM_AUTHINFO_UNAVAIL at once, connect never blocks', { skip: !python3 && 'python3 not installed' }, async () => {
    // A listener that never accepts, with its backlog filled by its own clients: a blocking connect()
    // would hang here until the daemon accepted.
    const full = path.join(dir, 'full.sock');
    const py = spawn(
      'python3',
      [
        '-c',
        [
          'import socket, sys, time',
          's = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0)',
          'cs = []',
          'while True:',
          '    c = socket.socket(socket.AF_UNIX); c.setblocking(False)',
          '    try: c.connect(sys.argv[1]); cs.append(c)',
          '    except BlockingIOError: break',
          'print("full", len(cs), flush=True)',
          'time.sleep(120)',
        ].join('\n'),
        full,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        py.stdout.once('data', () => resolve());
        py.once('exit', (c) => reject(new Error(`python exited ${c}`)));
      });
      const r = await runPam({ args: [`socket=${full}`, 'timeout=30'] });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
      assert.ok(r.elapsedMs < SANITY_MS, `took ${r.elapsedMs} ms with timeout=30`);
    } finally {
      py.kill();
    }
  });

  test('no daemon: PAM_AUTHINFO_UNAVAIL without waiting for the timeout', async () => {
    const r = await runPam({ args: [`socket=${path.join(dir, 'absent.sock')}`, 'timeout=30'] });
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.stderr);
    // timeout=30: returning within the sanity limit shows it did not wait for the deadline.
    assert.ok(r.elapsedMs < SANITY_MS, `took ${r.elapsedMs} ms`);
    // A stale socket file nobody listens on (daemon crashed) is refused at once too.
    const stale = path.join(dir, 'stale.sock');
    const d = await FakeDaemon.start(stale, () => {});
    await d.close();
    if (!fs.existsSync(stale)) fs.writeFileSync(stale, ''); // not a socket: connect fails as well
    const r2 = await runPam({ args: [`socket=${stale}`, 'timeout=30'] });
    assert.equal(r2.code, 'PAM_AUTHINFO_UNAVAIL', r2.stderr);
    assert.ok(r2.elapsedMs < SANITY_MS, `took ${r2.elapsedMs} ms`);
  });

  test('a daemon that stalls gives PAM_AUTHINFO_UNAVAIL once the timeout expires', async () => {
    const stalls: [string, Script][] = [
      ['never answers', () => {}],
      [
        'sends events forever',
        (_r, s) => {
          const t = setInterval(() => s.write(encodeEvent('no-face')), 20);
          s.on('close', () => clearInterval(t));
        },
      ],
      ['half a header', (_r, s) => void s.write(encodeAnswer('allow', 'match').subarray(0, 5))],
      ['header, half a payload', (_r, s) => void s.write(encodeAnswer('allow', 'match').subarray(0, 14))],
    ];
    const results = await Promise.all(
      stalls.map(async ([name, behaviour]) => {
        const d = await FakeDaemon.start(path.join(dir, `stall-${stalls.findIndex((x) => x[0] === name)}.sock`), behaviour);
        try {
          const r = await runPam({ args: [`socket=${d.socketPath}`, 'timeout=1'] });
          return { name, r, connections: d.connections };
        } finally {
          await d.close();
        }
      }),
    );
    for (const { name, r, connections } of results) {
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', `${name}: ${r.stderr}`);
      assert.equal(connections, 1, name);
      assert.ok(r.elapsedMs >= 1000, `${name}: returned after ${r.elapsedMs} ms, before the timeout`);
      assert.ok(r.elapsedMs < SANITY_MS, `${name}: took ${r.elapsedMs} ms`);
    }
  });

  test('malformed answers never authenticate: PAM_AUTHINFO_UNAVAIL for each', async () => {
    const nul = Buffer.from('type=answer\nresult=allow\nreason=match\n');
    nul[20] = 0;
    const cases: [string, Buffer][] = [
      ['plain text', Buffer.from('allow\n')],
      ['HTTP', Buffer.from('HTTP/1.1 200 OK\r\n\r\n')],
      ['bad version', Buffer.concat([header(37, 2), Buffer.from('type=answer\nresult=allow\nreason=match\n')])],
      ['oversized length', Buffer.concat([header(0x7fffffff), Buffer.alloc(64, 0x61)])],
      ['length MAX+1', Buffer.concat([header(4097), Buffer.alloc(4097, 0x61)])],
      ['zero length', header(0)],
      ['truncated then closed', encodeAnswer('allow', 'match').subarray(0, 20)],
      ['embedded NUL', rawFrame(nul)],
      ['invalid UTF-8', rawFrame(Buffer.from([...Buffer.from('type=answer\nresult=allow\nreason=match\nx='), 0xff, 0x0a]))],
      ['allow with a deny reason', rawFrame('type=answer\nresult=allow\nreason=no-match\n')],
      ['allow without reason', rawFrame('type=answer\nresult=allow\n')],
      ['allow with unknown field', rawFrame('type=answer\nresult=allow\nreason=match\nuid=0\n')],
      ['allow twice in one payload', rawFrame('type=answer\nresult=allow\nresult=allow\nreason=match\n')],
      ['ALLOW upper case', rawFrame('type=answer\nresult=ALLOW\nreason=match\n')],
      ['CRLF', rawFrame('type=answer\r\nresult=allow\r\nreason=match\r\n')],
      ['no final newline', rawFrame('type=answer\nresult=allow\nreason=match')],
      ['a request instead of an answer', rawFrame('type=request\nuser=a\nservice=s\ntty=\nrhost=\ndeadline_ms=1\n')],
      ['unknown event', Buffer.concat([rawFrame('type=event\nevent=allow\n'), encodeAnswer('allow', 'match')])],
      ['closed without answer', Buffer.alloc(0)],
      ['events then close', Buffer.concat([encodeEvent('looking'), encodeEvent('retry')])],
      ['garbage after good events', Buffer.concat([encodeEvent('looking'), Buffer.from('FGX')])],
    ];
    for (const [name, bytes] of cases) {
      script((_r: Request, s: net.Socket) => void s.end(bytes));
      const r = await runPam({ args: args() });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', `${name}: ${r.stderr}`);
    }
  });

  test('the answer ends the exchange: bytes after it are ignored', async () => {
    script((_r, s) => void s.end(Buffer.concat([encodeAnswer('deny', 'no-match'), encodeAnswer('allow', 'match')])));
    assert.equal((await runPam({ args: args() })).code, 'PAM_AUTH_ERR');
  });

  test('any PAM_RHOST is skipped without contacting the daemon, localhost included', async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    for (const rhost of ['203.0.113.9', 'evil.example', 'localhost.evil.example', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain']) {
      const n = daemon.connections;
      const r = await runPam({ args: args(), rhost });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', `${rhost}: ${r.stderr}`);
      assert.equal(daemon.connections, n, `${rhost}: the daemon was contacted`);
    }
    assert.equal((await runPam({ args: args(), rhost: '' })).code, 'PAM_SUCCESS', 'no rhost');
  });

  test('outside a logind session only a greeter service is served (as logind sees this test runner)', async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    // fg-pam-run is a child of this process, in the same cgroup: the TS lookup tells what the module will see.
    const session = sessionOfPid(process.pid);
    const user = userSessionsOfPid(process.pid);
    const n = daemon.connections;
    const r = await runPam({ args: args(), greeter: false });
    const want = classifyLocality({ rhost: '', session, greeter: false, user }) === 'local' ? 'PAM_SUCCESS' : 'PAM_AUTHINFO_UNAVAIL';
    assert.equal(r.code, want, `session ${session}, user sessions ${user}: ${r.line}`);
    if (want !== 'PAM_SUCCESS') assert.equal(daemon.connections, n, 'the daemon was contacted');
    if (session !== 'remote') assert.equal((await runPam({ args: args('greeter') })).code, 'PAM_SUCCESS');
  });

  test("outside a session, the invoking uid's logind sessions decide (fake /run/systemd in a mount namespace)", {
    skip: logindNamespaceSkip() ?? false,
  }, async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    const me = process.getuid!();
    const cases: [string, LogindTree['users'][number], string, string?][] = [
      ['at the desktop, nowhere else', ['2'], 'PAM_SUCCESS'],
      ['at a VT, with the user manager', ['3', 'm1'], 'PAM_SUCCESS'],
      ['at the desktop and over SSH', ['2', 'c7'], 'PAM_AUTHINFO_UNAVAIL'],
      ['at the desktop and over SSH through a localhost tunnel', ['2', 'c8'], 'PAM_AUTHINFO_UNAVAIL'],
      ['at the desktop, an SSH login closing', ['2', 'c9'], 'PAM_AUTHINFO_UNAVAIL'],
      ['only over SSH (systemd-run --user --pty, tmux as a user unit)', ['c7'], 'PAM_AUTHINFO_UNAVAIL'],
      ['the desktop switched away from', ['5'], 'PAM_AUTHINFO_UNAVAIL'],
      ['not logged in anywhere', null, 'PAM_AUTHINFO_UNAVAIL'],
      ['a session file gone', ['2', '99'], 'PAM_AUTHINFO_UNAVAIL'],
      ['at the desktop, but PAM_RHOST=localhost', ['2'], 'PAM_AUTHINFO_UNAVAIL', 'localhost'],
    ];
    const sessions: LogindTree['sessions'] = {
      '2': 'desktop',
      '3': 'vt',
      '5': 'desktopInactive',
      c7: 'ssh',
      c8: 'sshLocalhost',
      c9: 'sshClosing',
      m1: 'manager',
    };
    for (const [what, ids, want, rhost] of cases) {
      const root = writeLogindTree({ users: { [me]: ids }, sessions });
      try {
        const n = daemon.connections;
        const r = await runPam({ args: args('debug'), greeter: false, wrap: inLogindTree(root), ...(rhost ? { rhost } : {}) });
        assert.equal(r.code, want, `${what}: ${r.line}`);
        assert.equal(daemon.connections, n + (want === 'PAM_SUCCESS' ? 1 : 0), `${what}: connections`);
        // A greeter does not depend on them.
        if (!rhost) assert.equal((await runPam({ args: args('greeter'), wrap: inLogindTree(root) })).code, 'PAM_SUCCESS', `${what}: greeter`);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
  });

  test("a set-uid caller (sudo) is judged by its real uid's sessions, not by uid 0 or PAM_USER", { skip: logindNamespaceSkip() ?? false }, async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    // A set-uid root copy of fg-pam-run started as nobody: real uid 65534, effective 0, as sudo run by a user.
    const bin = tempDir('fg-suid-');
    const suid = path.join(bin, 'fg-pam-run');
    fs.copyFileSync(path.join(path.dirname(MODULE_PATH), 'fg-pam-run'), suid);
    fs.chmodSync(suid, 0o4755);
    fs.chmodSync(bin, 0o755);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(sock, 0o666);
    const nobody = 65534;
    const sessions: LogindTree['sessions'] = { '2': 'desktop', c7: 'ssh' };
    try {
      const cases: [LogindTree['users'], string][] = [
        [{ 0: ['2'], [nobody]: ['2', 'c7'] }, 'PAM_AUTHINFO_UNAVAIL'],
        [{ 0: ['c7'], [nobody]: ['2'] }, 'PAM_SUCCESS'],
        [{ 0: ['2'], [nobody]: null }, 'PAM_AUTHINFO_UNAVAIL'],
      ];
      for (const [users, want] of cases) {
        const root = writeLogindTree({ users, sessions });
        try {
          const wrap = [...inLogindTree(root), 'setpriv', `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups'];
          // PAM_USER root: su's target, or sudo with rootpw. It is not whose sessions count.
          const r = await runPam({ args: args(), greeter: false, user: 'root', wrap, program: suid });
          assert.equal(r.code, want, `${JSON.stringify(users)}: ${r.line}`);
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      }
    } finally {
      fs.chmodSync(dir, 0o700);
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  test('the account phase reports a password success after a failed face attempt, and only then', async () => {
    const permit = PERMIT;
    if (!permit) return;
    for (const [answer, wantReset] of [
      [encodeAnswer('deny', 'no-match'), true],
      [encodeAnswer('unavailable', 'locked-out'), true],
      [encodeAnswer('allow', 'match'), false],
    ] as const) {
      script((_r, s) => void s.end(answer));
      const before = daemon.resets.length;
      // auth: face (optional) then a password stand-in that succeeds; account: the module beside pam_permit.
      const r = await runPam({
        args: args(),
        control: 'optional',
        operation: 'login',
        user: 'carol',
        extraLines: [`auth required ${permit}`, `account optional ${MODULE_PATH} ${moduleArgs({ args: args() }).join(' ')}`, `account required ${permit}`],
      });
      assert.equal(r.code, 'PAM_SUCCESS', r.line);
      assert.deepEqual(daemon.resets.slice(before), wantReset ? [{ type: 'reset', user: 'carol', service: 'facegate-test' }] : [], r.line);
    }
    // The account phase alone (cron, a NOPASSWD sudo rule, a cached sudo timestamp): nothing authenticated in
    // this handle, nothing to report.
    const before = daemon.resets.length;
    const r = await runPam({ args: args(), operation: 'acct', extraLines: [`account required ${permit}`] });
    assert.equal(r.code, 'PAM_SUCCESS', r.line);
    assert.equal(daemon.resets.length, before);
    // A failed password: the application never runs the account phase.
    script((_r, s) => void s.end(encodeAnswer('deny', 'no-match')));
    const deny = PERMIT.replace('pam_permit', 'pam_deny');
    const f = await runPam({
      args: args(),
      control: 'optional',
      operation: 'login',
      extraLines: [`auth required ${deny}`, `account optional ${MODULE_PATH} ${moduleArgs({ args: args() }).join(' ')}`],
    });
    assert.notEqual(f.code, 'PAM_SUCCESS');
    assert.equal(daemon.resets.length, before);
  });

  test('bad options fail to PAM_AUTHINFO_UNAVAIL without contacting the daemon', async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    const bad = [
      ['timeout=0'],
      ['timeout=abc'],
      ['timeout=-1'],
      ['timeout=601'],
      ['timeout=1x'],
      ['timeout='],
      ['socket=relative.sock'],
      [`socket=/${'x'.repeat(120)}`],
      ['sockett=/x'],
      ['nosuchoption'],
    ];
    for (const extra of bad) {
      const n = daemon.connections;
      const r = await runPam({ args: [`socket=${sock}`, ...extra] });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(daemon.connections, n, extra.join(' '));
    }
    // debug and notice are accepted; default timeout applies when none is given.
    const r = await runPam({ args: [`socket=${sock}`, 'debug', 'notice'] });
    assert.equal(r.code, 'PAM_SUCCESS', r.stderr);
    assert.equal(daemon.requests.at(-1)?.deadlineMs, 4000);
  });

  test('a user name the protocol cannot carry is refused locally', async () => {
    script((_r, s) => void s.end(encodeAnswer('allow', 'match')));
    const n = daemon.connections;
    const r = await runPam({ args: args(), user: 'a'.repeat(300) });
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.stderr);
    assert.equal(daemon.connections, n);
  });

  test('the other entry points are PAM_IGNORE', async () => {
    const permit = PERMIT;
    const n = daemon.connections;
    for (const operation of ['acct', 'setcred', 'session'] as const) {
      // Alone in its stack, a module that only ignores makes libpam fail; beside pam_permit it changes nothing.
      const alone = await runPam({ args: args(), operation });
      assert.notEqual(alone.code, 'PAM_SUCCESS', `${operation}: ${alone.stderr}`);
      if (permit) {
        const type = { acct: 'account', setcred: 'auth', session: 'session' }[operation];
        const r = await runPam({ args: args(), operation, extraLines: [`${type} required ${permit}`] });
        assert.equal(r.code, 'PAM_SUCCESS', `${operation}: ${r.stderr}`);
      }
    }
    assert.equal(daemon.connections, n);
  });
});

describe('pam_facegate through pamtester under pam_wrapper', { skip: pamtesterSkipReason() ?? false }, () => {
  let dir: string;
  let daemon: FakeDaemon;
  before(async () => {
    buildModule();
    dir = tempDir();
    daemon = await FakeDaemon.start(path.join(dir, 'facegate.sock'), () => {});
  });
  after(async () => {
    await daemon.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Sequential on purpose, with unique service names: see runPamtester about pam_wrapper's shared dirs.
  test('allow, deny, unavailable, no daemon and remote rhost map to the right PAM codes', async () => {
    const cases: [string, Buffer | null, { rhost?: string; socket?: string }, string][] = [
      ['allow', encodeAnswer('allow', 'match'), {}, 'PAM_SUCCESS'],
      ['deny', encodeAnswer('deny', 'no-match'), {}, 'PAM_AUTH_ERR'],
      ['unavailable', encodeAnswer('unavailable', 'no-templates'), {}, 'PAM_AUTHINFO_UNAVAIL'],
      ['garbage', Buffer.from('FGT\x01\x00\x00\x00\x04abc\n'), {}, 'PAM_AUTHINFO_UNAVAIL'],
      ['no daemon', null, { socket: path.join(dir, 'absent.sock') }, 'PAM_AUTHINFO_UNAVAIL'],
      ['remote', encodeAnswer('allow', 'match'), { rhost: 'far.example' }, 'PAM_AUTHINFO_UNAVAIL'],
    ];
    for (const [i, [name, answer, o, want]] of cases.entries()) {
      daemon.script = (_r, s) => void s.end(answer ?? Buffer.alloc(0));
      const n = daemon.connections;
      const r = await runPamtester({
        args: [`socket=${o.socket ?? daemon.socketPath}`, 'timeout=2', 'notice'],
        service: `facegate-pt-${process.pid}-${i}`,
        ...(o.rhost ? { rhost: o.rhost } : {}),
      });
      assert.equal(r.code, want, `${name}: ${r.line}\n${r.stderr}`);
      if (name === 'remote' || name === 'no daemon') assert.equal(daemon.connections, n, `${name}: daemon contacted`);
    }
  });
});

describe('pam_facegate believes only root or daemon_user on the socket', {
  skip: skip ?? (process.getuid?.() !== 0 ? 'needs root to run a fake daemon as nobody' : false),
}, () => {
  let dir: string;
  let fake: ForeignDaemon;
  before(async () => {
    buildModule();
    dir = tempDir();
    fake = await startDaemonAs('nobody', dir);
  });
  after(() => {
    fake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a daemon running as another uid is refused before it learns anything; naming its user accepts it', async () => {
    const sock = fake.socketPath;
    // The test runs as root, and root is always trusted; nobody is not daemon_user.
    const r = await runPam({ args: [`socket=${sock}`, 'timeout=2', 'debug'] });
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
    assert.deepEqual(fake.received, [], 'the request was sent to an untrusted peer');
    const def = await runPam({ args: [`socket=${sock}`, 'timeout=2'], daemonUser: null });
    assert.equal(def.code, 'PAM_AUTHINFO_UNAVAIL', `default daemon_user=facegate: ${def.line}`);
    // The same peer named as the daemon's user: believed (so the refusal above was the uid check).
    const ok = await runPam({ args: [`socket=${sock}`, 'timeout=2'], daemonUser: 'nobody' });
    assert.equal(ok.code, 'PAM_SUCCESS', ok.line);
    assert.equal(fake.received.length, 1);
  });

  test('daemon_user= must be a plain user name', async () => {
    for (const bad of ['daemon_user=', 'daemon_user=-x', `daemon_user=${'u'.repeat(65)}`, 'daemon_user=a/b', 'daemon_user=a:b']) {
      const r = await runPam({ args: [`socket=${fake.socketPath}`, 'timeout=1', bad], daemonUser: null });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', bad);
    }
    const n = fake.received.length;
    assert.equal((await runPam({ args: [`socket=${fake.socketPath}`, 'timeout=1', 'daemon_user=nobody'], daemonUser: null })).code, 'PAM_SUCCESS');
    assert.equal(fake.received.length, n + 1);
  });
});
