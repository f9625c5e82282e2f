// The module under valgrind (memcheck) on its main paths: any memory error or definite leak fails the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { encodeAnswer, encodeEvent } from '../src/protocol/index.js';
import { inLogindTree, logindNamespaceSkip, writeLogindTree } from './helpers/logind-tree.js';
import {
  FakeDaemon,
  MODULE_PATH,
  buildModule,
  moduleArgs,
  pamSkipReason,
  runPam,
  startDaemonAs,
  tempDir,
  valgrindPath,
  type ForeignDaemon,
} from './helpers/pam-harness.js';

const skip = pamSkipReason() ?? (valgrindPath() ? null : 'valgrind not installed');
const VALGRIND = ['--error-exitcode=99', '--leak-check=full', '--errors-for-leak-kinds=definite', '-q'];

let dir: string;
const daemons: FakeDaemon[] = [];
let foreign: ForeignDaemon | undefined;
const trees: string[] = [];
const PERMIT = ['/usr/lib/x86_64-linux-gnu/security/pam_permit.so', '/lib/x86_64-linux-gnu/security/pam_permit.so', '/usr/lib/security/pam_permit.so'].find(
  (p) => fs.existsSync(p),
);

before(async () => {
  if (skip) return;
  buildModule();
  dir = tempDir();
});
after(async () => {
  for (const d of daemons) await d.close();
  foreign?.stop();
  for (const t of trees) fs.rmSync(t, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("valgrind: allow with progress, malformed answer, stall, no daemon, remote host, no session, the user's sessions, account-phase reset, untrusted peer", {
  skip: skip ?? false,
}, async () => {
  const start = async (name: string, script: Parameters<typeof FakeDaemon.start>[1]) => {
    const d = await FakeDaemon.start(path.join(dir, `${name}.sock`), script);
    daemons.push(d);
    return `socket=${d.socketPath}`;
  };
  const ok = await start('ok', (_r, s) => {
    s.write(encodeEvent('looking'));
    s.write(encodeEvent('retry'));
    s.end(encodeAnswer('allow', 'match'));
  });
  const bad = await start('bad', (_r, s) => void s.end(Buffer.from('FGT\x01\x00\x00\x00\x10type=answer\nres\0')));
  const stall = await start('stall', () => {});
  const runs: [string, Promise<Awaited<ReturnType<typeof runPam>>>, string | null][] = [
    ['allow', runPam({ args: [ok, 'timeout=5', 'notice', 'debug'], valgrind: VALGRIND }), 'PAM_SUCCESS'],
    ['malformed', runPam({ args: [bad, 'timeout=5', 'debug'], valgrind: VALGRIND }), 'PAM_AUTHINFO_UNAVAIL'],
    ['stall', runPam({ args: [stall, 'timeout=1', 'debug'], valgrind: VALGRIND }), 'PAM_AUTHINFO_UNAVAIL'],
    ['no daemon', runPam({ args: [`socket=${dir}/none.sock`, 'debug'], valgrind: VALGRIND }), 'PAM_AUTHINFO_UNAVAIL'],
    ['remote', runPam({ args: [ok, 'debug'], rhost: 'far.example', valgrind: VALGRIND }), 'PAM_AUTHINFO_UNAVAIL'],
    // The logind lookup (sd_pid_get_session) on its own: this runner is in no session unless started from one.
    ['no greeter', runPam({ args: [ok, 'debug'], greeter: false, valgrind: VALGRIND }), null],
  ];
  const deny = await start('deny', (_r, s) => void s.end(encodeAnswer('deny', 'no-match')));
  const denyDaemon = daemons.at(-1)!;
  if (PERMIT) {
    const account = `account optional ${MODULE_PATH} ${moduleArgs({ args: [deny, 'debug'] }).join(' ')}`;
    runs.push([
      'reset',
      runPam({
        args: [deny, 'debug'],
        control: 'optional',
        operation: 'login',
        extraLines: [`auth required ${PERMIT}`, account, `account required ${PERMIT}`],
        valgrind: VALGRIND,
      }),
      'PAM_SUCCESS',
    ]);
  }
  if (process.getuid?.() === 0) {
    foreign = await startDaemonAs('nobody', dir);
    // getpwnam_r and the SO_PEERCRED refusal.
    runs.push([
      'untrusted peer',
      runPam({ args: [`socket=${foreign.socketPath}`, 'debug'], daemonUser: 'facegate', valgrind: VALGRIND }),
      'PAM_AUTHINFO_UNAVAIL',
    ]);
  }
  if (!logindNamespaceSkip()) {
    // The user-sessions path (sd_uid_get_sessions and each session's facts) on a fake /run/systemd: all read,
    // a remote one among them, and a session file gone mid-list (the ids left unread must still be freed).
    const me = process.getuid!();
    const sessions = { '2': 'desktop', '3': 'vt', c7: 'ssh', m1: 'manager' } as const;
    for (const [name, ids, want] of [
      ['user at a seat', ['2', '3', 'm1'], 'PAM_SUCCESS'],
      ['user also over SSH', ['2', 'c7', 'm1'], 'PAM_AUTHINFO_UNAVAIL'],
      ['user session gone', ['2', '99', 'c7'], 'PAM_AUTHINFO_UNAVAIL'],
    ] as const) {
      const root = writeLogindTree({ users: { [me]: [...ids] }, sessions });
      trees.push(root);
      runs.push([name, runPam({ args: [ok, 'debug'], greeter: false, wrap: inLogindTree(root), valgrind: VALGRIND }), want]);
    }
  }
  for (const [name, p, want] of runs) {
    const r = await p;
    assert.notEqual(r.exitCode, 99, `${name}: valgrind reported errors:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /==\d+== (Invalid|Conditional|Syscall param|Mismatched)/, `${name}:\n${r.stderr}`);
    if (want !== null) assert.equal(r.code, want, `${name}: ${r.stderr}`);
    else assert.match(r.code, /^PAM_(SUCCESS|AUTHINFO_UNAVAIL)$/, `${name}: ${r.stderr}`);
  }
  if (PERMIT) assert.equal(denyDaemon.resets.length, 1, 'the account phase sent its reset under valgrind');
});
