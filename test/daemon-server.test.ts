// facegated's request handling with a stand-in face engine (no models): authorisation, immediate refusals,
// the verification loop, queueing, malformed frames and clients that leave. The real models are exercised end
// to end by test/e2e-pam.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, type Config } from '../src/config/config.js';
import { CameraManager, type CameraOpener } from '../src/auth/camera-manager.js';
import { askDaemon } from '../src/daemon/client.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { CameraError, openCamera, type Camera, type Frame } from '../src/camera/camera.js';
import { userNameOfUid } from '../src/daemon/peercred.js';
import { lookupFromSync } from '../src/daemon/user-directory.js';
import { FakeEngine, MODEL, fakeEmbedding, pgm } from './helpers/fake-engine.js';
import { encodeEvent, encodeRequest, encodeReset, FrameReader, type Answer, type EventCode, type Message } from '../src/protocol/index.js';
import { TemplateStore } from '../src/store/store.js';
import { FakeLiveness, PHOTO_LEVEL } from './helpers/fake-liveness.js';
import type { SessionState, UserState } from '../src/policy/index.js';

const UIDS: Record<string, number> = { alice: 1000, bob: 1001, carol: 1002 };

interface Harness {
  dir: string;
  sock: string;
  server: FacegateServer;
  camera: CameraManager;
  store: TemplateStore;
  engine: FakeEngine;
  /** How often the server read the invoking user's sessions. */
  userReads: { n: number };
  config: Config;
  logs: string[];
  stop(): Promise<void>;
}

async function start(
  frames: number[],
  opts: {
    config?: (c: Config) => void;
    userName?: (uid: number) => string | null;
    peerUid?: number;
    opener?: CameraOpener;
    session?: SessionState;
    user?: UserState;
    now?: () => number;
    db?: string;
  } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-daemon-'));
  fs.chmodSync(dir, 0o755);
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  frames.forEach((level, i) => {
    fs.writeFileSync(path.join(cam, `${String(i).padStart(3, '0')}.pgm`), pgm(level));
  });
  const config = defaultConfig();
  config.verify.timeout = 4;
  config.camera.idle_close = 0;
  opts.config?.(config);
  const store = TemplateStore.open(opts.db ?? path.join(dir, 'f.db'), opts.now ? { now: opts.now } : {});
  if (store.templateCount('alice') === 0) store.addFace('alice', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: UIDS.alice! });
  const logs: string[] = [];
  const log = createLogger((l) => logs.push(l));
  const camera = new CameraManager(`replay:${cam}?fps=30`, config.camera.idle_close * 1000, log, opts.opener);
  const engine = new FakeEngine();
  const userReads = { n: 0 };
  const server = new FacegateServer({
    config,
    store,
    engine,
    liveness: new FakeLiveness(),
    camera,
    log,
    // The test runner is in no logind session: the callers here count as local unless a test says otherwise.
    sessionOf: () => opts.session ?? 'local',
    // The invoking user's sessions, read only for a caller in none: 'none' (no active seat session) by default.
    userSessionsOf: () => {
      userReads.n++;
      return opts.user ?? 'none';
    },
    // Test accounts (alice, bob, carol) exist only here; uid-to-name is real unless the test fakes it.
    users: lookupFromSync(opts.userName ?? userNameOfUid, (name) => UIDS[name] ?? null),
    ...(opts.peerUid !== undefined ? { peerCred: () => ({ pid: 1, uid: opts.peerUid!, gid: opts.peerUid! }) } : {}),
  });
  const sock = path.join(dir, 'facegate.sock');
  await server.listenPath(sock);
  return {
    dir,
    sock,
    server,
    camera,
    store,
    engine,
    userReads,
    config,
    logs,
    async stop() {
      await server.close();
      await camera.shutdown();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pick = (a: Answer): [string, string] => [a.result, a.reason];

const REQ = { user: 'alice', service: 'sudo', tty: '/dev/pts/1', rhost: '', deadlineMs: 3000 };

async function ask(h: Harness, over: Partial<typeof REQ> = {}): Promise<{ answer: Answer; events: EventCode[] }> {
  const events: EventCode[] = [];
  // Like the PAM module: the answer must come within the deadline plus 250 ms of grace, else this rejects.
  const req = { ...REQ, ...over };
  const answer = await askDaemon(h.sock, req, { onEvent: (e) => events.push(e), timeoutMs: req.deadlineMs + 250 });
  return { answer, events };
}

/** Sends raw bytes, half-closes, and collects every message until the server closes. */
function raw(sock: string, bytes: Buffer, halfClose = true): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const out: Message[] = [];
    const c = net.connect(sock, () => {
      c.write(bytes);
      if (halfClose) c.end();
    });
    c.on('data', (d: Buffer) => out.push(...reader.push(d)));
    c.on('close', () => resolve(out));
    c.on('error', reject);
  });
}

test('the enrolled face is allowed after looking', async () => {
  const h = await start([200, 200, 200]);
  try {
    const { answer, events } = await ask(h);
    assert.deepEqual([answer.result, answer.reason], ['allow', 'match']);
    assert.equal(events[0], 'looking');
    assert.equal(h.camera.opens, 1);
    assert.match(h.logs.join('\n'), /msg=answer user=alice service=sudo uid=\d+ pid=\d+ result=allow reason=match/);
  } finally {
    await h.stop();
  }
});

test('a matching face that is never judged live is denied not-live, and the cue scores are logged', async () => {
  const h = await start([PHOTO_LEVEL]);
  try {
    const { answer } = await ask(h, { deadlineMs: 800 });
    assert.deepEqual([answer.result, answer.reason], ['deny', 'not-live']);
    const line = h.logs.find((l) => l.includes('msg=answer'))!;
    assert.match(line, /result=deny reason=not-live .*live=0 .*live_failed=pad .*cue_pad=0\.1/);
  } finally {
    await h.stop();
  }
});

test('liveness enabled in the config but no judge given: the server refuses to start', () => {
  const config = defaultConfig();
  assert.throws(
    () => new FacegateServer({ config, store: null as never, engine: new FakeEngine(), liveness: null, camera: null as never, log: createLogger(() => {}) }),
    /liveness is enabled/,
  );
});

test('one matching frame among impostor frames is not a match under the default attempt rule', async () => {
  // Default rule: the mean of the best 2 frame scores must pass the threshold; a lone good frame does not.
  const h = await start([200, ...Array<number>(29).fill(100)]);
  try {
    const { answer, events } = await ask(h, { deadlineMs: 800 });
    assert.deepEqual([answer.result, answer.reason], ['deny', 'no-match']);
    assert.ok(events.includes('retry'));
  } finally {
    await h.stop();
  }
  // The per-frame rule (k-of with 1 frame) accepts that same lone frame: the difference is the rule.
  const h2 = await start([200, ...Array<number>(29).fill(100)], {
    config: (c) => {
      c.verify.rule = 'k-of';
      c.verify.rule_frames = 1;
    },
  });
  try {
    assert.equal((await ask(h2, { deadlineMs: 800 })).answer.result, 'allow');
  } finally {
    await h2.stop();
  }
});

test('another face is denied at the deadline', async () => {
  const h = await start([100]);
  try {
    const { answer, events } = await ask(h, { deadlineMs: 700 });
    assert.deepEqual([answer.result, answer.reason], ['deny', 'no-match']);
    assert.deepEqual(events, ['looking', 'retry']);
  } finally {
    await h.stop();
  }
});

test('dark frames are skipped; only dark frames give too-dark and no-face', async () => {
  const h = await start([5, 5, 5, 5]);
  try {
    const { answer, events } = await ask(h, { deadlineMs: 600 });
    assert.deepEqual([answer.result, answer.reason], ['unavailable', 'no-face']);
    assert.ok(events.includes('too-dark'));
    assert.equal(h.engine.detected, 0, 'dark frames never reach the detector');
  } finally {
    await h.stop();
  }
  // IR emitter lighting every other frame: the lit frames still authenticate.
  const h2 = await start([5, 200, 5, 200]);
  try {
    assert.equal((await ask(h2)).answer.result, 'allow');
  } finally {
    await h2.stop();
  }
});

test('refusals that need no camera are immediate and never open it', async () => {
  const h = await start([200]);
  try {
    const cases: Array<[Partial<typeof REQ>, string]> = [
      [{ user: 'bob' }, 'no-templates'],
      [{ rhost: 'evil.example.com' }, 'remote-session'],
      [{ service: 'sshd' }, 'disabled'],
      [{ service: 'cron' }, 'disabled'],
      [{ user: '../../etc' }, 'bad-request'],
      // No localhost exemption: a tunnel arrives from loopback too.
      ...['localhost', '127.0.0.1', '::1', 'localhost.localdomain', ' '].map((rhost): [Partial<typeof REQ>, string] => [{ rhost }, 'remote-session']),
    ];
    for (const [over, reason] of cases) {
      const { answer, events } = await ask(h, over);
      assert.deepEqual([answer.result, answer.reason], ['unavailable', reason], JSON.stringify(over));
      assert.deepEqual(events, []);
    }
    assert.equal(h.camera.opens, 0);
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(h.camera.opens, 1);
  } finally {
    await h.stop();
  }
});

test('templates of another model version: model-mismatch', async () => {
  const h = await start([200]);
  try {
    h.store.addFace('carol', 'old', [{ id: MODEL.id, sha256: '0'.repeat(64), vector: fakeEmbedding(200) }], { uid: UIDS.carol! });
    const { answer } = await ask(h, { user: 'carol' });
    assert.deepEqual([answer.result, answer.reason], ['unavailable', 'model-mismatch']);
    assert.equal(h.camera.opens, 0);
  } finally {
    await h.stop();
  }
});

test('a non-root peer may ask only for itself', async () => {
  const h = await start([200], { peerUid: 1000, userName: (uid) => (uid === 1000 ? 'alice' : null) });
  try {
    assert.equal((await ask(h)).answer.result, 'allow');
    h.store.addFace('bob', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: UIDS.bob! });
    const { answer } = await ask(h, { user: 'bob' });
    assert.deepEqual([answer.result, answer.reason], ['unavailable', 'not-permitted']);
  } finally {
    await h.stop();
  }
});

test('a real non-root process (nobody) asking for another user is refused', {
  skip: process.getuid?.() !== 0 && 'needs root to run a client as nobody',
}, async () => {
  const h = await start([200]);
  try {
    const script = `
      const net = require('net');
      const c = net.connect(process.argv[1], () => c.write(Buffer.from(process.argv[2], 'base64')));
      c.on('data', (d) => process.stdout.write(d.toString('latin1')));
      c.on('error', (e) => { console.error(e.message); process.exit(2); });`;
    const frame = encodeRequest({ ...REQ }).toString('base64');
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script, h.sock, frame]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await new Promise((r) => child.on('close', r));
    assert.match(out, /result=unavailable\nreason=not-permitted\n/);
    assert.equal(h.camera.opens, 0);
  } finally {
    await h.stop();
  }
});

test('malformed frames get bad-request or a close, and the daemon keeps serving', async () => {
  const h = await start([200]);
  try {
    const good = encodeRequest(REQ);
    const bads: Buffer[] = [
      Buffer.from('GET / HTTP/1.0\r\n\r\n'),
      Buffer.from([0x46, 0x47, 0x54, 9, 0, 0, 0, 1, 0x41]), // unknown version
      Buffer.from([0x46, 0x47, 0x54, 1, 0xff, 0xff, 0xff, 0xff]), // oversized: refused before buffering
      Buffer.from([0x46, 0x47, 0x54, 1, 0, 0, 0, 0]), // zero length
      good.subarray(0, good.length - 3), // truncated
      Buffer.concat([good.subarray(0, 12), Buffer.from([0]), good.subarray(13)]), // embedded NUL
      Buffer.concat([good.subarray(0, 20), Buffer.from([0xc3, 0x28]), good.subarray(22)]), // invalid UTF-8
      Buffer.from(encodeRequest(REQ).toString('latin1').replace('type=request', 'type=answer!'), 'latin1'),
    ];
    for (const b of bads) {
      const msgs = await raw(h.sock, b);
      assert.ok(msgs.length <= 1, 'at most one answer');
      if (msgs[0]) assert.deepEqual(msgs[0], { type: 'answer', result: 'unavailable', reason: 'bad-request' });
    }
    // An event where a request belongs, and two requests in one write.
    const ev = await raw(h.sock, encodeEvent('retry'));
    assert.deepEqual(ev, [{ type: 'answer', result: 'unavailable', reason: 'bad-request' }]);
    const two = await raw(h.sock, Buffer.concat([good, good]));
    assert.deepEqual(two, [{ type: 'answer', result: 'unavailable', reason: 'bad-request' }]);
    assert.equal(h.camera.opens, 0);
    assert.equal((await ask(h)).answer.result, 'allow');
  } finally {
    await h.stop();
  }
});

test('requests queue for the camera within their deadlines', async () => {
  const h = await start([100]);
  try {
    // Three users: one verification per user may be in flight, so each queues for the camera in its own name.
    h.store.addFace('bob', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: UIDS.bob! });
    h.store.addFace('carol', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: UIDS.carol! });
    const first = ask(h, { deadlineMs: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    const second = ask(h, { user: 'bob', deadlineMs: 3000 });
    const short = ask(h, { user: 'carol', deadlineMs: 300 });
    const [a, b, c] = await Promise.all([first, second, short]);
    assert.deepEqual([a.answer.result, a.answer.reason], ['deny', 'no-match']);
    assert.deepEqual(b.events.slice(0, 2), ['queued', 'looking']);
    assert.deepEqual([b.answer.result, b.answer.reason], ['deny', 'no-match']);
    assert.deepEqual([c.answer.result, c.answer.reason], ['unavailable', 'busy']);
  } finally {
    await h.stop();
  }
});

test('a client that leaves mid-verification releases the camera at once', async () => {
  const h = await start([100]);
  try {
    await new Promise<void>((resolve) => {
      const c = net.connect(h.sock, () => c.write(encodeRequest({ ...REQ, deadlineMs: 60_000 })));
      c.once('data', () => {
        c.destroy();
        resolve();
      });
    });
    const { answer, events } = await ask(h, { deadlineMs: 500 });
    assert.equal(answer.result, 'deny');
    assert.ok(!events.includes('queued'), 'the camera was free');
    assert.match(h.logs.join('\n'), /msg="client left"/);
  } finally {
    await h.stop();
  }
});

test('a connection that sends nothing is dropped after the request timeout, others are served meanwhile', async () => {
  const h = await start([200]);
  try {
    const idle = net.connect(h.sock);
    const closed = new Promise<void>((r) => idle.on('close', () => r()));
    idle.on('error', () => {});
    assert.equal((await ask(h)).answer.result, 'allow');
    await closed;
    assert.match(h.logs.join('\n'), /no request in time/);
  } finally {
    await h.stop();
  }
});

test('random bytes never crash the daemon: at most one bad-request answer each, then it still serves', async () => {
  const h = await start([200]);
  try {
    // A fixed-seed generator keeps failures reproducible.
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const good = encodeRequest(REQ);
    for (let i = 0; i < 150; i++) {
      let b: Buffer;
      if (i % 3 === 0) {
        b = Buffer.from(good);
        for (let k = 0; k < 1 + rnd(4); k++) b[rnd(b.length)] = rnd(256); // mutate a valid request
      } else if (i % 3 === 1) {
        b = Buffer.concat([Buffer.from('FGT\x01'), Buffer.from(Array.from({ length: 4 + rnd(60) }, () => rnd(256)))]);
      } else {
        b = Buffer.from(Array.from({ length: 1 + rnd(200) }, () => rnd(256)));
      }
      const msgs = await raw(h.sock, b);
      assert.ok(msgs.length <= 3, `input ${i}`);
      const last = msgs.at(-1);
      if (last) assert.equal(last.type, 'answer', `input ${i}`);
    }
    assert.equal((await ask(h)).answer.result, 'allow');
  } finally {
    await h.stop();
  }
});

test('a camera that cannot open gives camera-error, and the next request tries again', async () => {
  let attempts = 0;
  const opener: CameraOpener = async (spec) => {
    attempts++;
    if (attempts === 1) throw new CameraError('BUSY', 'v4l2: /dev/video9 is busy');
    return openCamera(spec);
  };
  const h = await start([200], { opener });
  try {
    const first = await ask(h);
    assert.deepEqual([first.answer.result, first.answer.reason], ['unavailable', 'camera-error']);
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(attempts, 2);
  } finally {
    await h.stop();
  }
});

test('a camera that fails mid-stream gives camera-error, and is reopened for the next request', async () => {
  let opens = 0;
  const opener: CameraOpener = async (spec) => {
    opens++;
    const real = await openCamera(spec);
    if (opens > 1) return real;
    // The first camera yields one dark frame, then dies like an unplugged device.
    const broken: Camera = {
      info: real.info,
      async *frames(): AsyncGenerator<Frame> {
        for await (const f of real.frames()) {
          yield { ...f, image: { ...f.image, data: new Uint8Array(f.image.data.length) } };
          throw new CameraError('IO', 'v4l2: device disconnected');
        }
      },
      close: () => real.close(),
    };
    return broken;
  };
  const h = await start([200], { opener });
  try {
    const first = await ask(h);
    assert.deepEqual([first.answer.result, first.answer.reason], ['unavailable', 'camera-error']);
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(opens, 2);
  } finally {
    await h.stop();
  }
});

test('the camera stays open between requests within idle_close and closes after it', async () => {
  const h = await start([200], { config: (c) => (c.camera.idle_close = 1) });
  try {
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(h.camera.opens, 1, 'one open for back-to-back requests');
    while (h.camera.isOpen) await new Promise((r) => setTimeout(r, 50));
    assert.match(h.logs.join('\n'), /msg="camera closed" why=idle/);
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(h.camera.opens, 2);
  } finally {
    await h.stop();
  }
});

test('close() ends connections in flight at once, even with a long deadline', { timeout: 30_000 }, async () => {
  // With a 120 s verification cap, a close() that waited for the connection would run into the test timeout.
  const h = await start([100], { config: (c) => (c.verify.timeout = 120) });
  const c = net.connect(h.sock, () => c.write(encodeRequest({ ...REQ, deadlineMs: 600_000 })));
  c.on('error', () => {});
  const ended = new Promise<void>((r) => c.on('close', () => r()));
  await new Promise<void>((r) => c.once('data', () => r())); // verification under way
  await h.stop();
  await ended;
  assert.equal(h.camera.isOpen, false);
});

test("the caller's logind session decides: remote or none is refused before the camera, except for greeters", async () => {
  for (const [session, service, want] of [
    ['remote', 'sudo', 'remote-session'],
    ['remote', 'gdm-password', 'remote-session'],
    ['none', 'sudo', 'remote-session'],
    ['error', 'sudo', 'remote-session'],
    ['none', 'gdm-password', 'allow'],
    ['error', 'swaylock', 'allow'],
    ['local', 'sudo', 'allow'],
  ] as const) {
    const h = await start([200], { session });
    try {
      const { answer } = await ask(h, { service });
      assert.equal(answer.result === 'allow' ? 'allow' : answer.reason, want, `${session} ${service}`);
      if (want !== 'allow') {
        assert.equal(h.camera.opens, 0, `${session} ${service}: camera opened`);
        assert.match(h.logs.join('\n'), /reason=remote-session ms=\d+ why=(remote-session|no-session) session=(remote|none|error) greeter=[01]/);
      }
    } finally {
      await h.stop();
    }
  }
  // A greeter listed in the config only: taking gdm-password out of local.greeters makes "no session" remote.
  const h = await start([200], { session: 'none', config: (c) => (c.local.greeters = ['sddm']) });
  try {
    assert.equal((await ask(h, { service: 'gdm-password' })).answer.reason, 'remote-session');
  } finally {
    await h.stop();
  }
});

test('a caller in no session (a desktop terminal) is local only if its user is at a seat and nowhere remote', async () => {
  for (const [session, user, service, rhost, want, why] of [
    ['none', 'local', 'sudo', '', 'allow', null],
    ['none', 'remote', 'sudo', '', 'remote-session', 'user-remote'],
    ['none', 'none', 'sudo', '', 'remote-session', 'no-session'],
    ['none', 'error', 'sudo', '', 'remote-session', 'no-session'],
    ['error', 'local', 'sudo', '', 'remote-session', 'no-session'],
    ['none', 'local', 'sudo', '127.0.0.1', 'remote-session', 'remote-host'],
    ['none', 'remote', 'gdm-password', '', 'allow', null],
  ] as const) {
    const h = await start([200], { session, user });
    try {
      const { answer } = await ask(h, { service, rhost });
      const label = `${session} ${user} ${service} ${rhost}`;
      assert.equal(answer.result === 'allow' ? 'allow' : answer.reason, want, label);
      // Read only where they decide: a caller in none, no rhost, not a greeter.
      assert.equal(h.userReads.n, session === 'none' && rhost === '' && service === 'sudo' ? 1 : 0, `${label}: user sessions read`);
      if (why !== null) {
        assert.equal(h.camera.opens, 0, `${label}: camera opened`);
        const line = h.logs.find((l) => l.includes('reason=remote-session')) ?? '';
        assert.match(line, new RegExp(`why=${why} session=${session} greeter=0`), label);
        if (h.userReads.n > 0) assert.match(line, new RegExp(`user=${user}`), label);
      }
    } finally {
      await h.stop();
    }
  }
});
test('services are off unless listed: the default allowlist, and a service added in the config', async () => {
  const h = await start([200, 200], { config: (c) => (c.services.enabled['my-locker'] = true) });
  try {
    for (const service of [
      'sudo',
      'su',
      'login',
      'polkit-1',
      'gdm-password',
      'kde',
      'sddm',
      'lightdm',
      'xscreensaver',
      'swaylock',
      'hyprlock',
      'i3lock',
      'cinnamon-screensaver',
      'mate-screensaver',
      'my-locker',
    ]) {
      assert.equal((await ask(h, { service })).answer.result, 'allow', service);
    }
    for (const service of ['sshd', 'cron', 'other', 'dbus', 'systemd-user', 'sudo-i']) {
      assert.equal((await ask(h, { service })).answer.reason, 'disabled', service);
    }
  } finally {
    await h.stop();
  }
});

/** Sends one reset frame as the test's own uid (root when the suite runs as root) and returns the answer. */
async function reset(sock: string, user: string): Promise<Message[]> {
  return raw(sock, encodeReset({ user, service: 'facegate-test' }), false);
}

test('lockout: after lockout.attempts denials the user gets locked-out at once, without the camera', async () => {
  let now = 1_000_000;
  const h = await start([100], { now: () => now, config: (c) => (c.lockout = { attempts: 3, seconds: 60 }) });
  try {
    for (let i = 1; i <= 3; i++) {
      assert.deepEqual(pick((await ask(h, { deadlineMs: 400 })).answer), ['deny', 'no-match'], `attempt ${i}`);
      assert.equal(h.store.lockout.state('alice', h.config.lockout)?.failures, i);
    }
    const opens = h.camera.opens;
    const detected = h.engine.detected;
    const { answer, events } = await ask(h);
    assert.deepEqual(pick(answer), ['unavailable', 'locked-out']);
    assert.deepEqual(events, [], 'no progress: the camera was never asked for');
    assert.equal(h.camera.opens, opens);
    assert.equal(h.engine.detected, detected);
    assert.match(h.logs.join('\n'), /reason=locked-out .*until=/);
    // Another user is not affected by alice's counter (bob has no face: no-templates, not locked-out).
    assert.equal((await ask(h, { user: 'bob' })).answer.reason, 'no-templates');
    // lockout.seconds later (fake clock) the lockout is over and the count starts again.
    now += 59_999;
    assert.equal((await ask(h)).answer.reason, 'locked-out');
    now += 1;
    assert.deepEqual(pick((await ask(h, { deadlineMs: 400 })).answer), ['deny', 'no-match']);
    assert.equal(h.store.lockout.state('alice', h.config.lockout)?.failures, 1);
  } finally {
    await h.stop();
  }
});

test('lockout: a match clears the count; attempts without a face compared do not count', async () => {
  const h = await start([200, 100], { config: (c) => (c.lockout = { attempts: 2, seconds: 600 }) });
  try {
    h.store.lockout.begin('alice', h.config.lockout); // one earlier failure
    assert.equal((await ask(h)).answer.result, 'allow');
    assert.equal(h.store.lockout.state('alice', h.config.lockout), null, 'allow clears the counter');
  } finally {
    await h.stop();
  }
  const dark = await start([5], { config: (c) => (c.lockout = { attempts: 2, seconds: 600 }) });
  try {
    for (let i = 0; i < 4; i++) assert.equal((await ask(dark, { deadlineMs: 300 })).answer.reason, 'no-face');
    assert.equal(dark.store.lockout.state('alice', dark.config.lockout), null, 'no-face attempts are not failures');
  } finally {
    await dark.stop();
  }
});

test('lockout: a client that hangs up after faces were compared still used up an attempt', async () => {
  const h = await start([100], { config: (c) => (c.lockout = { attempts: 5, seconds: 600 }) });
  try {
    const c = net.connect(h.sock, () => c.write(encodeRequest({ ...REQ, deadlineMs: 3000 })));
    c.on('error', () => {});
    await new Promise<void>((resolve) => c.on('data', (d: Buffer) => d.includes('retry') && resolve()));
    c.destroy();
    // The server notices the hang-up, stops the verification, and keeps the failure.
    for (let i = 0; i < 100 && h.camera.busy; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.store.lockout.state('alice', h.config.lockout)?.failures, 1);
  } finally {
    await h.stop();
  }
});

test('lockout: the count survives a daemon restart (same database)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-lockdb-'));
  const db = path.join(dir, 'f.db');
  const cfg = (c: Config): void => {
    c.lockout = { attempts: 2, seconds: 600 };
  };
  try {
    const h1 = await start([100], { db, config: cfg });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await ask(h1, { deadlineMs: 400 })).answer.result, 'deny');
    } finally {
      await h1.stop();
    }
    const h2 = await start([200], { db, config: cfg });
    try {
      const { answer } = await ask(h2);
      assert.deepEqual(pick(answer), ['unavailable', 'locked-out'], 'a restart must not give new tries');
      assert.equal(h2.camera.opens, 0);
    } finally {
      await h2.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lockout: a reset from root clears the count; from another uid it is refused', async () => {
  const cfg = (c: Config): void => {
    c.lockout = { attempts: 1, seconds: 600 };
  };
  const h = await start([200], { config: cfg, peerUid: 1000, userName: (uid) => (uid === 1000 ? 'alice' : null) });
  try {
    h.store.lockout.begin('alice', h.config.lockout);
    assert.equal((await ask(h)).answer.reason, 'locked-out');
    // alice's own session may not reset her counter: else it could give itself unlimited tries.
    assert.deepEqual(await reset(h.sock, 'alice'), [{ type: 'answer', result: 'unavailable', reason: 'not-permitted' }]);
    assert.equal((await ask(h)).answer.reason, 'locked-out');
    assert.match(h.logs.join('\n'), /msg="reset refused" user=alice .*uid=1000/);
  } finally {
    await h.stop();
  }
  const root = await start([200], { config: cfg, peerUid: 0 });
  try {
    root.store.lockout.begin('alice', root.config.lockout);
    assert.equal((await ask(root)).answer.reason, 'locked-out');
    assert.deepEqual(await reset(root.sock, 'alice'), [{ type: 'answer', result: 'ok', reason: 'reset' }]);
    assert.equal((await ask(root)).answer.result, 'allow');
    assert.deepEqual(await reset(root.sock, '../etc'), [{ type: 'answer', result: 'unavailable', reason: 'bad-request' }]);
  } finally {
    await root.stop();
  }
});
