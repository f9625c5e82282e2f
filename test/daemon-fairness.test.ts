// Fairness rules of facegated (issue 7) one by one, with the stand-in engine: connection slots per uid with a
// reserve for root, connections closed after their answer, one verification per user, root first for the camera,
// and passwd look-ups that are cached, shared and bounded. The 200-client scenario is test/daemon-load.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FakeLiveness } from './helpers/fake-liveness.js';
import { defaultConfig } from '../src/config/config.js';
import { CameraManager } from '../src/auth/camera-manager.js';
import { askDaemon } from '../src/daemon/client.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { lookupFromSync, UserDirectory, UserLookupError } from '../src/daemon/user-directory.js';
import { encodeRequest } from '../src/protocol/index.js';
import { TemplateStore } from '../src/store/store.js';
import { FakeEngine, MODEL, fakeEmbedding, pgm } from './helpers/fake-engine.js';

const USERS: Record<string, number> = { root: 0, alice: 1000, bob: 1001 };
const NAMES = new Map(Object.entries(USERS).map(([n, u]) => [u, n]));

interface Harness {
  sock: string;
  server: FacegateServer;
  camera: CameraManager;
  /** The uid the next connection is seen as (the peer-credential seam). */
  nextUid: number;
  stop(): Promise<void>;
}

/** Camera frames show identity 100; alice and bob are enrolled at 200 (never match), root at 100 (matches). */
async function start(): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-fair-'));
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(100));
  const config = defaultConfig();
  config.verify.timeout = 10;
  config.camera.idle_close = 0;
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  for (const [name, uid] of Object.entries(USERS)) store.addFace(name, 'default', [{ ...MODEL, vector: fakeEmbedding(uid === 0 ? 100 : 200) }], { uid });
  const log = createLogger(() => {});
  const camera = new CameraManager(`replay:${cam}?fps=30`, 0, log);
  const h = { nextUid: 0 } as Harness;
  const server = new FacegateServer({
    config,
    store,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log,
    peerCred: () => ({ pid: 1, uid: h.nextUid, gid: h.nextUid }),
    users: lookupFromSync(
      (uid) => NAMES.get(uid) ?? null,
      (name) => USERS[name] ?? null,
    ),
    sessionOf: () => 'local',
  });
  const sock = path.join(dir, 'facegate.sock');
  await server.listenPath(sock);
  return Object.assign(h, {
    sock,
    server,
    camera,
    async stop() {
      await server.close();
      await camera.shutdown();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

const REQ = { service: 'sudo', tty: '/dev/pts/1', rhost: '' };

function ask(h: Harness, uid: number, user: string, deadlineMs: number): Promise<string> {
  h.nextUid = uid;
  return askDaemon(h.sock, { ...REQ, user, deadlineMs }, { timeoutMs: deadlineMs + 250 }).then((a) => `${a.result}/${a.reason}`);
}

function idle(h: Harness, uid: number): Promise<net.Socket> {
  h.nextUid = uid;
  return new Promise((resolve) => {
    const c = net.connect(h.sock, () => resolve(c));
    c.on('error', () => {});
  });
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

test('a uid gets 8 connections; the 9th is refused busy at once while root and other uids are served', async () => {
  const h = await start();
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 8; i++) held.push(await idle(h, 1000));
    // idle() resolves on connect; let the server accept them all before the next one.
    await new Promise((r) => setTimeout(r, 50)); // the server has accepted them
    assert.equal(await ask(h, 1000, 'alice', 2000), 'unavailable/busy');
    assert.equal(h.server.refusedConnections, 1);
    assert.equal(await ask(h, 0, 'root', 2000), 'allow/match');
    assert.equal(await ask(h, 1001, 'bob', 400), 'deny/no-match');
  } finally {
    for (const c of held) c.destroy();
    await h.stop();
  }
});

test('non-root uids together get 96 connections; the 32 kept for root still serve it', async () => {
  const h = await start();
  const held: net.Socket[] = [];
  try {
    for (let uid = 2000; uid < 2012; uid++) for (let i = 0; i < 8; i++) held.push(await idle(h, uid));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await ask(h, 1000, 'alice', 2000), 'unavailable/busy', 'no slot left for non-root');
    assert.equal(await ask(h, 0, 'root', 2000), 'allow/match');
  } finally {
    for (const c of held) c.destroy();
    await h.stop();
  }
});

test('the daemon closes a connection shortly after its answer even if the client keeps it open', async () => {
  const h = await start();
  try {
    h.nextUid = 0;
    const error = await new Promise<string>((resolve) => {
      // allowHalfOpen: this client never closes its side after the answer. Writing to it later shows whether the
      // daemon still holds the connection (the write is taken) or has closed it (EPIPE).
      const c = net.connect({ path: h.sock, allowHalfOpen: true }, () => c.write(encodeRequest({ ...REQ, user: 'nobody-enrolled', deadlineMs: 1000 })));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      c.on('data', () => {});
      c.on('end', () => {
        const poke = setInterval(() => c.write('x'), 100);
        c.on('close', () => clearInterval(poke));
      });
    });
    assert.equal(error, 'EPIPE');
  } finally {
    await h.stop();
  }
});

test('one verification per user: a second request for the same user is busy at once', async () => {
  const h = await start();
  try {
    const first = ask(h, 1000, 'alice', 1500);
    await until(() => h.camera.busy);
    assert.equal(await ask(h, 1000, 'alice', 1500), 'unavailable/busy');
    assert.equal(await first, 'deny/no-match');
  } finally {
    await h.stop();
  }
});

test('root is served first: it cuts a user verification short and goes ahead of queued users', async () => {
  const h = await start();
  try {
    const alice = ask(h, 1000, 'alice', 5000);
    await until(() => h.camera.busy);
    const bob = ask(h, 1001, 'bob', 5000);
    await new Promise((r) => setTimeout(r, 100)); // bob queued behind alice
    const root = await ask(h, 0, 'root', 5000);
    assert.equal(root, 'allow/match');
    assert.equal(await alice, 'unavailable/busy', 'the user verification was pre-empted');
    assert.equal(await bob, 'deny/no-match', 'bob still had his turn after root');
  } finally {
    await h.stop();
  }
});

test('root asking for a user whose own session is verifying pre-empts it', async () => {
  const h = await start();
  try {
    const own = ask(h, 1000, 'alice', 5000);
    await until(() => h.camera.busy);
    assert.equal(await ask(h, 0, 'alice', 600), 'deny/no-match');
    assert.equal(await own, 'unavailable/busy');
  } finally {
    await h.stop();
  }
});

test('passwd look-ups: cached, shared between concurrent callers, bounded, and a hung one times out', async () => {
  let calls = 0;
  let hang = false;
  const dir = new UserDirectory({
    maxInFlight: 1,
    timeoutMs: 200,
    source: {
      nameOf: async (uid) => {
        calls++;
        if (hang) return new Promise<string | null>(() => {});
        await new Promise((r) => setTimeout(r, 20));
        return uid === 1000 ? 'alice' : null;
      },
      uidOf: async () => null,
    },
  });
  const [a, b] = await Promise.all([dir.nameOf(1000), dir.nameOf(1000)]);
  assert.deepEqual([a, b, calls], ['alice', 'alice', 1]);
  assert.equal(await dir.nameOf(1000), 'alice');
  assert.equal(calls, 1, 'answered from the cache');
  assert.equal(await dir.nameOf(1001), null);
  hang = true;
  await assert.rejects(dir.nameOf(1002), (e: unknown) => e instanceof UserLookupError && e.code === 'timeout');
  // The hung call keeps its slot (it cannot be cancelled): a new look-up waits and times out too, never piles up.
  await assert.rejects(dir.nameOf(1003), (e: unknown) => e instanceof UserLookupError && e.code === 'timeout');
  assert.equal(calls, 3, 'the second look-up never reached NSS while the first hung');
  assert.equal(await dir.nameOf(1000), 'alice', 'cached answers are still served');
});

test('a hung passwd look-up for one client does not hold up root', async () => {
  const dirp = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-fair-nss-'));
  const cam = path.join(dirp, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(100));
  const config = defaultConfig();
  config.camera.idle_close = 0;
  const store = TemplateStore.open(path.join(dirp, 'f.db'));
  store.addFace('root', 'default', [{ ...MODEL, vector: fakeEmbedding(100) }], { uid: 0 });
  const log = createLogger(() => {});
  const camera = new CameraManager(`replay:${cam}?fps=30`, 0, log);
  let uid = 1000;
  const server = new FacegateServer({
    config,
    store,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log,
    peerCred: () => ({ pid: 1, uid, gid: uid }),
    users: new UserDirectory({
      timeoutMs: 300,
      source: { nameOf: () => new Promise<string | null>(() => {}), uidOf: async (n) => (n === 'root' ? 0 : null) },
    }),
    sessionOf: () => 'local',
  });
  const sock = path.join(dirp, 's.sock');
  await server.listenPath(sock);
  try {
    const stuck = askDaemon(sock, { ...REQ, user: 'alice', deadlineMs: 3000 });
    await new Promise((r) => setTimeout(r, 20));
    uid = 0;
    const root = await askDaemon(sock, { ...REQ, user: 'root', deadlineMs: 3000 });
    assert.deepEqual([root.result, root.reason], ['allow', 'match']);
    const a = await stuck;
    assert.deepEqual([a.result, a.reason], ['unavailable', 'internal-error']);
  } finally {
    await server.close();
    await camera.shutdown();
    store.close();
    fs.rmSync(dirp, { recursive: true, force: true });
  }
});
