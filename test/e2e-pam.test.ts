// The whole path sudo takes, with real models and a real PAM stack, no root and no camera: facegated (built JS)
// on a temp socket with a replay camera, a user enrolled by the real CLI from nuaa-dev live webcam frames, and
// pam_facegate.so under pamtester + pam_wrapper. The genuine user is a live sequence; the printed photo of the same
// person must be denied not-live (liveness is on, as shipped).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { askDaemon } from '../src/daemon/client.js';
import { encodeRequest, FrameReader, type Message } from '../src/protocol/index.js';
import { FakeDaemon, buildModule, pamSkipReason, runPam, runPamtester } from './helpers/pam-harness.js';
import { DAEMON_JS, currentUser, e2eSkipReason, openTempDir, pointCamera, replayDir, runCli, startDaemon, type Daemon } from './helpers/daemon-harness.js';
import { liveScenario } from './helpers/fixtures.js';

const skip = e2eSkipReason() ?? pamSkipReason();
// Proves a call returned instead of hanging; not a latency target (bench/pam.ts measures latency).
const SANITY_MS = 15_000;

function rawExchange(sock: string, bytes: Buffer): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const out: Message[] = [];
    const c = net.connect(sock, () => c.write(bytes));
    c.on('data', (d: Buffer) => out.push(...reader.push(d)));
    c.on('close', () => resolve(out));
    c.on('error', reject);
  });
}

describe('facegated + pam_facegate end to end', { skip: skip ?? false }, () => {
  const user = currentUser();
  let dir: string;
  let sock: string;
  let cam: string;
  let genuine: string;
  let impostor: string;
  let photo: string;
  let daemon: Daemon;
  let db: string;
  let config: string;
  const pamArgs = (timeout = 4) => [`socket=${sock}`, `timeout=${timeout}`];

  before(async () => {
    buildModule();
    dir = openTempDir('fg-e2e-');
    // A live camera sequence (nuaa-dev, or its frames in test/fixtures): the user is enrolled from the first 5
    // frames, the next 7 in time order are the genuine attempt; a printed photo of the same person the presentation attack;
    // another subject's live frames the impostor.
    const faces = liveScenario();
    const enrol = replayDir(dir, 'enrol', faces.enrol);
    genuine = replayDir(dir, 'genuine', faces.genuine);
    impostor = replayDir(dir, 'impostor', faces.impostor);
    photo = replayDir(dir, 'photo', faces.print);
    cam = path.join(dir, 'camera');
    pointCamera(cam, genuine);
    db = path.join(dir, 'facegate.db');
    sock = path.join(dir, 'facegate.sock');
    config = path.join(dir, 'config.toml');
    // idle_close = 0: every request reopens the replay camera, so re-pointing the symlink switches faces.
    // The tests run in no logind session: their PAM services are enabled and named greeters, as a display
    // manager's would be (docs/policy.md); runPam passes the module's `greeter` option to match.
    const services = ['facegate-test', `facegate-e2e-${process.pid}-genuine`, `facegate-e2e-${process.pid}-impostor`];
    fs.writeFileSync(
      config,
      `[camera]\nallow_replay = true\nidle_close = 0\n[verify]\ntimeout = 4\n[services]\n${services.map((x) => `"${x}" = true`).join('\n')}\n[local]\ngreeters = ${JSON.stringify(services)}\n`,
    );
    const r = await runCli(['enroll', user, '--config', config, '--db', db, '--camera', `replay:${enrol}?loop=0`, '--frames', '5', '--json']);
    assert.equal(r.code, 0, `enroll failed: ${r.stdout}${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).frames_good, 5);
    daemon = await startDaemon(['--config', config, '--db', db, '--socket', sock, '--camera', `replay:${cam}`]);
  });

  after(async () => {
    await daemon?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the enrolled user, live at the camera: PAM_SUCCESS', async () => {
    pointCamera(cam, genuine);
    const r = await runPam({ args: pamArgs(), user });
    assert.equal(r.code, 'PAM_SUCCESS', `${r.line}\n${daemon.lines.slice(-5).join('\n')}`);
  });

  test("a printed photo of the enrolled user: PAM_AUTH_ERR, the daemon's answer is not-live", async () => {
    pointCamera(cam, photo);
    const from = daemon.lines.length;
    try {
      // A photo is looked at until the daemon's own 4 s timeout; the module waits longer so that on a loaded machine
      // the daemon's answer, not the module's deadline, ends the call.
      const r = await runPam({ args: pamArgs(8), user });
      assert.equal(r.code, 'PAM_AUTH_ERR', `${r.line}\n${daemon.lines.slice(-5).join('\n')}`);
      // The daemon logs its answer just after sending it: wait for this request's line rather than race it. Only a
      // deny can be it: the previous test's allow may be logged after `from` was taken.
      const answered = /msg=answer .*result=deny /;
      for (let i = 0; i < 100 && daemon.count(answered, from) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(daemon.count(/msg=answer .*result=deny reason=not-live .*live=0 .*cue_pad=/, from), 1, daemon.lines.slice(from).join('\n'));
    } finally {
      pointCamera(cam, genuine);
    }
  });

  test('another person, live: PAM_AUTH_ERR', async () => {
    pointCamera(cam, impostor);
    const r = await runPam({ args: pamArgs(2), user });
    assert.equal(r.code, 'PAM_AUTH_ERR', `${r.line}\n${daemon.lines.slice(-5).join('\n')}`);
    pointCamera(cam, genuine);
  });

  test('pamtester under pam_wrapper, as an administrator would try it: genuine allowed, impostor falls through', async () => {
    pointCamera(cam, genuine);
    const ok = await runPamtester({ args: pamArgs(), user, service: `facegate-e2e-${process.pid}-genuine` });
    assert.equal(ok.code, 'PAM_SUCCESS', `${ok.line}\n${ok.stderr}\n${daemon.lines.slice(-5).join('\n')}`);
    pointCamera(cam, impostor);
    try {
      const bad = await runPamtester({ args: pamArgs(2), user, service: `facegate-e2e-${process.pid}-impostor` });
      assert.equal(bad.code, 'PAM_AUTH_ERR', `${bad.line}\n${bad.stderr}\n${daemon.lines.slice(-5).join('\n')}`);
    } finally {
      pointCamera(cam, genuine);
    }
  });

  test('no daemon: PAM_AUTHINFO_UNAVAIL at once, not after the timeout', async () => {
    const r = await runPam({ args: [`socket=${path.join(dir, 'absent.sock')}`, 'timeout=60'], user });
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
    assert.ok(r.elapsedMs < SANITY_MS, `took ${r.elapsedMs} ms with timeout=60`);
  });

  test('a daemon that stalls: PAM_AUTHINFO_UNAVAIL once the timeout expires', async () => {
    const stallSock = path.join(dir, 'stall.sock');
    const stall = await FakeDaemon.start(stallSock, () => {}); // accepts, reads the request, never answers
    try {
      const r = await runPam({ args: [`socket=${stallSock}`, 'timeout=1'], user });
      assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
      assert.ok(r.elapsedMs >= 1000, 'it waited for the deadline');
      assert.ok(r.elapsedMs < SANITY_MS);
      assert.equal(stall.requests.length, 1);
    } finally {
      await stall.close();
    }
  });

  test('a remote session is skipped and the camera never opens', async () => {
    const opens = daemon.count(/msg="camera open"/);
    const r = await runPam({ args: pamArgs(), user, rhost: 'attacker.example.com' });
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
    // The module does not even connect; the daemon refuses on its own too if asked directly.
    const a = await askDaemon(sock, { user, service: 'sshd', tty: '', rhost: '203.0.113.9', deadlineMs: 4000 });
    assert.deepEqual([a.result, a.reason], ['unavailable', 'remote-session']);
    assert.equal(daemon.count(/msg="camera open"/), opens);
  });

  test('a non-root peer asking for another user is refused', { skip: process.getuid?.() !== 0 && 'needs root to run a client as nobody' }, async () => {
    assert.notEqual(user, 'nobody');
    const opens = daemon.count(/msg="camera open"/);
    const script = `
      const net = require('net');
      const c = net.connect(process.argv[1], () => c.write(Buffer.from(process.argv[2], 'base64')));
      c.on('data', (d) => process.stdout.write(d.toString('latin1')));
      c.on('error', (e) => { console.error(e.message); process.exit(2); });`;
    const frame = encodeRequest({ user, service: 'sudo', tty: '', rhost: '', deadlineMs: 4000 }).toString('base64');
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script, sock, frame]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await new Promise((r) => child.on('close', r));
    assert.match(out, /result=unavailable\nreason=not-permitted\n/);
    assert.equal(daemon.count(/msg="camera open"/), opens);
  });

  test('malformed frames: the daemon answers bad-request or closes, and keeps serving', async () => {
    const good = encodeRequest({ user, service: 'sudo', tty: '', rhost: '', deadlineMs: 4000 });
    for (const bad of [
      Buffer.from('\x00\x01\x02garbage'),
      Buffer.from([0x46, 0x47, 0x54, 1, 0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0x46, 0x47, 0x54, 2, 0, 0, 0, 4, 0x61, 0x3d, 0x62, 0x0a]),
      Buffer.concat([good.subarray(0, 10), Buffer.from([0xff, 0xfe]), good.subarray(12)]),
    ]) {
      const msgs = await rawExchange(sock, bad);
      assert.ok(msgs.length <= 1);
      if (msgs[0]) assert.deepEqual(msgs[0], { type: 'answer', result: 'unavailable', reason: 'bad-request' });
    }
    assert.equal(daemon.proc.exitCode, null, 'daemon still running');
    pointCamera(cam, genuine);
    const r = await runPam({ args: pamArgs(), user });
    assert.equal(r.code, 'PAM_SUCCESS', r.line);
  });

  test('facegate status sees the running daemon, its models and the enrolled user', async () => {
    const r = await runCli(['status', '--config', config, '--db', db, '--socket', sock, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = JSON.parse(r.stdout);
    assert.equal(st.daemon.running, true);
    assert.equal(st.daemon.pid, daemon.proc.pid);
    assert.match(st.daemon.models[0].sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      st.users.map((u: { user: string }) => u.user),
      [user],
    );
  });

  test('systemd socket activation: the first connection starts facegated on the inherited socket', {
    skip: !fs.existsSync('/usr/bin/systemd-socket-activate') && 'systemd-socket-activate not installed',
  }, async () => {
    const actSock = path.join(dir, 'activated.sock');
    // systemd-socket-activate passes only the variables named with -E (like a unit's Environment=).
    const pass = Object.keys(process.env)
      .filter((k) => k.startsWith('FACEGATE_'))
      .flatMap((k) => ['-E', k]);
    const child = spawn(
      'systemd-socket-activate',
      ['-l', actSock, ...pass, process.execPath, DAEMON_JS, '--config', config, '--db', db, '--camera', `replay:${cam}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 100 && !fs.existsSync(actSock); i++) await new Promise((r) => setTimeout(r, 50));
      // The daemon starts on this connection; the request waits in the socket meanwhile.
      const a = await askDaemon(actSock, { user: 'nobody-enrolled', service: 'facegate-test', tty: '', rhost: '', deadlineMs: 120_000 });
      assert.deepEqual([a.result, a.reason], ['unavailable', 'no-templates']);
      assert.match(out, /msg=ready .*socket=fd:3/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
