// facegated's D-Bus API (src/dbus) on a private dbus-daemon: verification signals, argument validation,
// authorisation (the shared policy function, and end to end as `nobody` when running as root), cancellation,
// callers that leave, the camera queue shared with the socket, and the system-bus policy file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dbus from 'dbus-next';
import { defaultConfig, type Config } from '../src/config/config.js';
import { CameraManager } from '../src/auth/camera-manager.js';
import { askDaemon } from '../src/daemon/client.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { classifyLocality, mayAskFor, sessionOfPid, userSessionsOfPid } from '../src/policy/index.js';
import { uidOfUserName } from '../src/daemon/peercred.js';
import { BUS_NAME, ERRORS, INTERFACE, OBJECT_PATH } from '../src/dbus/api.js';
import { callFacegate, verifyOverDbus } from '../src/dbus/client.js';
import { parseBusKind, startDbusService, type DbusHandle } from '../src/dbus/connect.js';
import { checkArgs, userNameProblem } from '../src/dbus/validate.js';
import { modelsDir, PACKAGE_ROOT } from '../src/paths.js';
import { calibrationDir } from '../src/match/calibration.js';
import { DAEMON_JS, replayConfigToml, startDaemon } from './helpers/daemon-harness.js';
import { TemplateStore } from '../src/store/store.js';
import { FakeEngine, fakeEmbedding, MODEL, pgm } from './helpers/fake-engine.js';
import { FakeLiveness } from './helpers/fake-liveness.js';

const { Message, MessageType } = dbus;
type Msg = InstanceType<typeof Message>;

const haveDaemon = spawnSync('dbus-daemon', ['--version']).status === 0;
const noDaemon = !haveDaemon && 'dbus-daemon is not installed (apt-get install dbus)';
const isRoot = process.getuid?.() === 0;
const haveSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const NOBODY = 65534;
/** Tests verify the user running them (root in CI), so the authorisation lets them through as any uid. */
const ME = os.userInfo().username;
const UID = process.getuid?.() ?? -1;

// ---- stand-in engine: identity is the frame's grey level (as in test/daemon-server.test.ts) ----

// ---- a private bus ----

interface Bus {
  dir: string;
  address: string;
  child: ChildProcess;
}

async function startBus(policy: string): Promise<Bus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-dbus-'));
  // `nobody` must reach the socket in the setpriv tests.
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'bus.conf');
  fs.writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${dir}/bus</listen>
  <auth>EXTERNAL</auth>
  ${policy}
</busconfig>
`,
  );
  const child = spawn('dbus-daemon', [`--config-file=${conf}`, '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}: ${stderr}`)));
  });
  return { dir, address, child };
}

async function stopBus(b: Bus): Promise<void> {
  if (b.child.exitCode === null) {
    const exited = new Promise((r) => b.child.once('exit', r));
    b.child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(b.dir, { recursive: true, force: true });
}

const ALLOW_ALL = `<policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>`;

let bus: Bus | undefined;
before(async () => {
  if (haveDaemon) bus = await startBus(ALLOW_ALL);
});
after(async () => {
  if (bus) await stopBus(bus);
});

function connect(address: string): Promise<dbus.MessageBus> {
  const b = dbus.sessionBus({ busAddress: address });
  return new Promise((resolve, reject) => {
    b.once('connect', () => resolve(b));
    b.once('error', reject);
  });
}

// ---- facegated pieces on that bus ----

interface Harness {
  dir: string;
  config: Config;
  store: TemplateStore;
  camera: CameraManager;
  server: FacegateServer;
  engine: FakeEngine;
  dbusHandle: DbusHandle;
  client: dbus.MessageBus;
  logs: string[];
  stop(): Promise<void>;
}

async function start(frames: number[], opts: { config?: (c: Config) => void; address?: string; maxVerifications?: number } = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-dbus-svc-'));
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  frames.forEach((level, i) => {
    fs.writeFileSync(path.join(cam, `${String(i).padStart(3, '0')}.pgm`), pgm(level));
  });
  const config = defaultConfig();
  config.verify.timeout = 2;
  config.camera.idle_close = 0;
  config.camera.device = `replay:${cam}?fps=30`;
  config.camera.allow_replay = true;
  // D-Bus verifications are off by default ([services] dbus); this suite is about the API when it is on.
  config.services.enabled.dbus = true;
  opts.config?.(config);
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  store.addFace(ME, 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: process.getuid!() });
  store.addFace(ME, 'glasses', [{ ...MODEL, vector: fakeEmbedding(201) }], { uid: process.getuid!() });
  if (ME !== 'nobody') store.addFace('nobody', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: uidOfUserName('nobody')! });
  const logs: string[] = [];
  const log = createLogger((l) => logs.push(l));
  const camera = new CameraManager(config.camera.device, 0, log);
  const engine = new FakeEngine();
  // The test runner is in no logind session; the local rule itself is tested in test/policy.test.ts.
  const server = new FacegateServer({ config, store, engine, liveness: new FakeLiveness(), camera, log, sessionOf: () => 'local' });
  const address = opts.address ?? bus!.address;
  const deps = {
    runner: server,
    store,
    models: engine.models,
    camera,
    config,
    log,
    ...(opts.maxVerifications ? { maxVerifications: opts.maxVerifications } : {}),
  };
  const dbusHandle = await startDbusService('session', deps, { busAddress: address });
  const client = await connect(address);
  return {
    dir,
    config,
    store,
    camera,
    server,
    engine,
    dbusHandle,
    client,
    logs,
    async stop() {
      client.disconnect();
      await dbusHandle.close();
      await server.close();
      await camera.shutdown();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The error name a call fails with (the call must fail). */
async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof dbus.DBusError, String(err));
    return err.type;
  }
  assert.fail('the call succeeded');
}

/** Raw call with any signature, bypassing the client helper. */
function rawCall(
  b: dbus.MessageBus,
  member: string,
  signature: string,
  body: unknown[],
  iface: string | undefined = INTERFACE,
  objectPath = OBJECT_PATH,
): Promise<Msg | null> {
  return b.call(new Message({ destination: BUS_NAME, path: objectPath, ...(iface ? { interface: iface } : {}), member, signature, body }));
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- pure functions ----

test('authorisation policy: root for anyone, others only for their own name, unknown uids for nobody', () => {
  const names = new Map([
    [1000, 'alice'],
    [1001, 'bob'],
  ]);
  const userName = (uid: number): string | null => names.get(uid) ?? null;
  assert.equal(mayAskFor(0, 'alice', userName), true);
  assert.equal(mayAskFor(0, 'anyone', userName), true);
  assert.equal(mayAskFor(1000, 'alice', userName), true);
  assert.equal(mayAskFor(1000, 'bob', userName), false);
  assert.equal(mayAskFor(1001, 'alice', userName), false);
  assert.equal(mayAskFor(4242, 'alice', userName), false);
  assert.equal(mayAskFor(4242, '', userName), false);
});

test('argument validation names the problem', () => {
  assert.equal(userNameProblem('alice'), null);
  assert.equal(userNameProblem('svc-backup$'), null);
  assert.match(userNameProblem('')!, /empty/);
  assert.match(userNameProblem('a'.repeat(65))!, /65 bytes/);
  assert.match(userNameProblem('é'.repeat(40))!, /80 bytes/);
  assert.match(userNameProblem('bob\u0001')!, /control/);
  assert.match(userNameProblem('bob\ud800')!, /UTF-8/);
  assert.match(userNameProblem('../etc')!, /not a valid login name/);
  assert.match(userNameProblem('al ice')!, /not a valid login name/);
  assert.deepEqual(checkArgs('Verify', 's', 's', ['alice']), ['alice']);
  assert.throws(() => checkArgs('Verify', 's', 'i', [1]), /Verify takes signature "s", got "i"/);
  assert.throws(() => checkArgs('Verify', 's', undefined, []), /got none/);
  assert.throws(() => checkArgs('Cancel', '', 's', ['x']), /Cancel takes no arguments/);
  assert.throws(() => checkArgs('Verify', 's', 's', [42]), /not a string/);
  assert.equal(parseBusKind('system'), 'system');
  assert.throws(() => parseBusKind('tcp'), /--dbus must be one of system, session, none/);
});

// ---- on the bus ----

test('Verify: the reply, then VerifyStatus events, then VerifyStatus(done) and VerifyResult allow', { skip: noDaemon }, async () => {
  const h = await start([200, 200, 200]);
  try {
    // Every message the client receives, in order, to check the reply precedes the signals.
    const order: string[] = [];
    h.client.on('message', (m: Msg) => {
      if (m.type === MessageType.METHOD_RETURN) order.push('reply');
      else if (m.type === MessageType.SIGNAL && m.interface === INTERFACE) order.push(`${m.member}:${m.body.join(',')}`);
    });
    const out = await verifyOverDbus(h.client, ME, 5000);
    assert.deepEqual([out.answer, out.reason], ['allow', 'match']);
    assert.deepEqual(out.statuses[0], ['looking', false]);
    assert.deepEqual(out.statuses.at(-1), ['allow', true]);
    assert.ok(
      out.statuses.slice(0, -1).every(([, done]) => !done),
      'only the last status is done',
    );
    const i = order.lastIndexOf('reply');
    assert.deepEqual(order.slice(i), ['reply', ...out.statuses.map(([e, d]) => `VerifyStatus:${e},${d}`), 'VerifyResult:allow,match']);
    assert.match(h.logs.join('\n'), new RegExp(`msg=answer user=${ME} service=dbus uid=${UID} .*result=allow reason=match`));
    await until(() => h.dbusHandle.service.verifications === 0 && !h.camera.busy, 'the verification to end');
  } finally {
    await h.stop();
  }
});

test('Verify: another face is denied at the deadline, with retry events', { skip: noDaemon }, async () => {
  const h = await start([100], { config: (c) => (c.verify.timeout = 1) });
  try {
    const out = await verifyOverDbus(h.client, ME, 5000);
    assert.deepEqual([out.answer, out.reason], ['deny', 'no-match']);
    assert.deepEqual(out.statuses, [
      ['looking', false],
      ['retry', false],
      ['deny', true],
    ]);
  } finally {
    await h.stop();
  }
});

test('Verify: refusals that need no camera come as VerifyResult and never open it', { skip: noDaemon }, async () => {
  const h = await start([200], { config: (c) => (c.services.enabled.dbus = false) });
  try {
    const disabled = await verifyOverDbus(h.client, ME, 5000);
    assert.deepEqual([disabled.answer, disabled.reason], ['unavailable', 'disabled']);
    assert.deepEqual(disabled.statuses, [['unavailable', true]]);
  } finally {
    await h.stop();
  }
  const h2 = await start([200]);
  try {
    h2.store.removeUser(ME);
    const none = await verifyOverDbus(h2.client, ME, 5000);
    assert.deepEqual([none.answer, none.reason], ['unavailable', 'no-templates']);
    assert.equal(h2.camera.opens, 0);
  } finally {
    await h2.stop();
  }
});

test('bad arguments get named org.facegate.Error.* errors and the service keeps serving', { skip: noDaemon }, async () => {
  const h = await start([200]);
  try {
    const c = h.client;
    assert.equal(await errorOf(rawCall(c, 'Verify', 'i', [7])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'Verify', 'ss', [ME, 'x'])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'Verify', '', [])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'Verify', 'as', [[ME]])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'GetStatus', 's', ['x'])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'Cancel', 'u', [1])), ERRORS.invalidArgs);
    for (const bad of ['', '../../etc/passwd', 'a'.repeat(65), 'bob\u0007', 'ünïcode', "al'ice", '-rf']) {
      assert.equal(await errorOf(rawCall(c, 'Verify', 's', [bad])), ERRORS.invalidUser, JSON.stringify(bad));
      assert.equal(await errorOf(rawCall(c, 'ListEnrolled', 's', [bad])), ERRORS.invalidUser, JSON.stringify(bad));
    }
    // Other shapes and sizes: variants, containers, a 1 MiB byte array, a 100 kB string.
    assert.equal(await errorOf(rawCall(c, 'Verify', 'v', [new dbus.Variant('s', ME)])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'ListEnrolled', 'a{sv}', [{ user: new dbus.Variant('s', ME) }])), ERRORS.invalidArgs);
    assert.equal(await errorOf(rawCall(c, 'Verify', 'ay', [Buffer.alloc(1 << 20, 0x61)])), ERRORS.invalidArgs);
    const huge = await rawCall(c, 'Verify', 's', ['a'.repeat(100_000)]).catch((e: dbus.DBusError) => e);
    assert.ok(huge instanceof dbus.DBusError && huge.type === ERRORS.invalidUser);
    assert.ok(huge.text.length < 200, 'the error quotes at most a little of the argument');
    const text = await rawCall(c, 'Verify', 's', ['../x']).catch((e: dbus.DBusError) => e.text);
    assert.match(String(text), /Verify: user "\.\.\/x" is not a valid login name/);
    assert.equal(await errorOf(rawCall(c, 'Explode', '', [])), 'org.freedesktop.DBus.Error.UnknownMethod');
    assert.equal(await errorOf(rawCall(c, 'Verify', 's', [ME], 'org.facegate.Other')), 'org.freedesktop.DBus.Error.UnknownMethod');
    assert.equal(await errorOf(rawCall(c, 'Cancel', '', [])), ERRORS.noVerifyInProgress);
    assert.equal(h.camera.opens, 0, 'no bad call reached the camera');
    // A call without an interface is dispatched by member name, as the D-Bus spec allows.
    assert.ok(await rawCall(c, 'GetStatus', '', [], undefined));
    assert.equal((await verifyOverDbus(c, ME, 5000)).answer, 'allow');
  } finally {
    await h.stop();
  }
});

test('one verification per caller; Cancel stops it, frees the camera and no VerifyResult follows', { skip: noDaemon }, async () => {
  const h = await start([100], { config: (c) => (c.verify.timeout = 10) });
  try {
    const signals: string[] = [];
    h.client.on('message', (m: Msg) => {
      if (m.type === MessageType.SIGNAL && m.interface === INTERFACE) signals.push(`${m.member}:${m.body.join(',')}`);
    });
    await callFacegate(h.client, 'Verify', 's', [ME]);
    assert.equal(await errorOf(callFacegate(h.client, 'Verify', 's', [ME])), ERRORS.alreadyInProgress);
    await until(() => signals.includes('VerifyStatus:looking,false'), 'looking');
    assert.equal(h.camera.busy, true);
    const status = (await callFacegate(h.client, 'GetStatus'))!.body[0] as Record<string, { value: unknown }>;
    assert.deepEqual([status.verifications!.value, status.camera_busy!.value, status.camera_open!.value], [1, true, true]);
    await callFacegate(h.client, 'Cancel');
    // The reply to Cancel comes after the verification stopped and released the camera.
    assert.equal(h.camera.busy, false);
    assert.equal(h.dbusHandle.service.verifications, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!signals.some((s) => s.startsWith('VerifyResult') || s.endsWith(',true')), signals.join(' '));
    assert.equal(await errorOf(callFacegate(h.client, 'Cancel')), ERRORS.noVerifyInProgress);
    assert.match(h.logs.join('\n'), new RegExp(`msg="dbus verify cancelled" user=${ME} uid=${UID}`));
  } finally {
    await h.stop();
  }
});

test('at most maxVerifications run at once; the next caller is told so', { skip: noDaemon }, async () => {
  const h = await start([100], { config: (c) => (c.verify.timeout = 10), maxVerifications: 1 });
  const other = await connect(bus!.address);
  try {
    await callFacegate(other, 'Verify', 's', [ME]);
    assert.equal(await errorOf(callFacegate(h.client, 'Verify', 's', [ME])), ERRORS.tooManyRequests);
    await callFacegate(other, 'Cancel');
    h.config.verify.timeout = 1;
    assert.equal((await verifyOverDbus(h.client, ME, 5000)).answer, 'deny');
  } finally {
    other.disconnect();
    await h.stop();
  }
});

test('a caller that leaves the bus mid-verification frees the camera', { skip: noDaemon }, async () => {
  const h = await start([100], { config: (c) => (c.verify.timeout = 10) });
  try {
    const other = await connect(bus!.address);
    await callFacegate(other, 'Verify', 's', [ME]);
    await until(() => h.camera.busy, 'the camera to be taken');
    other.disconnect();
    await until(() => !h.camera.busy && h.dbusHandle.service.verifications === 0, 'the verification to stop');
    assert.match(h.logs.join('\n'), new RegExp(`msg="dbus caller left" user=${ME}`));
    // and the next caller is served
    h.config.verify.timeout = 1;
    assert.equal((await verifyOverDbus(h.client, ME, 5000)).answer, 'deny');
  } finally {
    await h.stop();
  }
});

test('D-Bus and the socket share one camera queue', { skip: noDaemon || (ME === 'nobody' && 'needs a second enrolled user') }, async () => {
  const h = await start([200]);
  const sock = path.join(h.dir, 'facegate.sock');
  await h.server.listenPath(sock);
  try {
    // A socket request takes the camera and is held inside its verification until the gate opens.
    let open!: () => void;
    h.engine.gate = new Promise<void>((r) => (open = r));
    const socketAnswer = askDaemon(sock, { user: ME, service: 'sudo', tty: '', rhost: '', deadlineMs: 3000 }, { timeoutMs: 5000 });
    await until(() => h.camera.busy, 'the socket request to take the camera');
    let queued = false;
    h.client.on('message', (m: Msg) => {
      if (m.type === MessageType.SIGNAL && m.member === 'VerifyStatus' && m.body[0] === 'queued') queued = true;
    });
    // Another user: one verification per user may be in flight (issue 7), so this one queues for the camera.
    const viaDbus = verifyOverDbus(h.client, 'nobody', 5000);
    await until(() => queued, 'the D-Bus verification to queue behind the socket request');
    h.engine.gate = null;
    open();
    assert.deepEqual([(await socketAnswer).result, (await socketAnswer).reason], ['allow', 'match']);
    const out = await viaDbus;
    assert.deepEqual(out.statuses, [
      ['queued', false],
      ['looking', false],
      ['allow', true],
    ]);
    assert.deepEqual([out.answer, out.reason], ['allow', 'match']);
  } finally {
    await h.stop();
  }
});

test('ListEnrolled gives (id, label, created) and never template data; GetStatus reports models and camera', { skip: noDaemon }, async () => {
  const h = await start([200]);
  try {
    const reply = await callFacegate(h.client, 'ListEnrolled', 's', [ME]);
    assert.equal(reply!.signature, 'a(sss)');
    const rows = reply!.body[0] as string[][];
    const faces = h.store.listFaces(ME);
    assert.deepEqual(
      rows,
      faces.map((f) => [String(f.id), f.label, new Date(f.created).toISOString()]),
    );
    assert.deepEqual(
      rows.map((r) => r[1]),
      ['default', 'glasses'],
    );
    assert.ok(rows.every((r) => r.length === 3 && r.every((v) => typeof v === 'string' && v.length <= 64)));

    const st = (await callFacegate(h.client, 'GetStatus'))!;
    assert.equal(st.signature, 'a{sv}');
    const status = st.body[0] as Record<string, { signature: string; value: unknown }>;
    assert.deepEqual(Object.keys(status).sort(), ['api_version', 'camera', 'camera_busy', 'camera_open', 'models', 'target_far', 'verifications', 'version']);
    assert.deepEqual(status.models!.value, [[MODEL.id, MODEL.sha256]]);
    assert.equal(status.camera!.value, h.config.camera.device);
    assert.equal(status.version!.value, JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
    assert.equal(status.api_version!.value, 1);
    assert.equal(status.verifications!.value, 0);
    h.store.removeUser(ME);
    assert.deepEqual((await callFacegate(h.client, 'ListEnrolled', 's', [ME]))!.body[0], []);
  } finally {
    await h.stop();
  }
});

test('introspection describes the object and leads to it from /', { skip: noDaemon }, async () => {
  const h = await start([200]);
  try {
    const intro = (p: string): Promise<string> =>
      rawCall(h.client, 'Introspect', '', [], 'org.freedesktop.DBus.Introspectable', p).then((m) => String(m!.body[0]));
    const xml = await intro(OBJECT_PATH);
    for (const s of [
      '<method name="Verify">',
      '<method name="Cancel"/>',
      '<method name="ListEnrolled">',
      '<method name="GetStatus">',
      '<signal name="VerifyStatus">',
      '<signal name="VerifyResult">',
    ]) {
      assert.ok(xml.includes(s), s);
    }
    assert.match(await intro('/'), /<node name="org"\/>/);
    assert.match(await intro('/org/facegate'), /<node name="Daemon"\/>/);
    // The generated proxy works too: a desktop's GDBusProxy would see the same.
    const proxy = await h.client.getProxyObject(BUS_NAME, OBJECT_PATH);
    assert.ok(proxy.getInterface(INTERFACE));
    assert.ok(await rawCall(h.client, 'Ping', '', [], 'org.freedesktop.DBus.Peer'));
    assert.deepEqual((await rawCall(h.client, 'GetAll', 's', [INTERFACE], 'org.freedesktop.DBus.Properties'))!.body[0], {});
    assert.equal(
      await errorOf(rawCall(h.client, 'Get', 'ss', [INTERFACE, 'x'], 'org.freedesktop.DBus.Properties')),
      'org.freedesktop.DBus.Error.UnknownProperty',
    );
  } finally {
    await h.stop();
  }
});

test('a second service cannot take the name, and an unreachable bus is an error, not a crash', { skip: noDaemon }, async () => {
  const h = await start([200]);
  try {
    const log = createLogger(() => {});
    const deps = { runner: h.server, store: h.store, models: [MODEL], camera: h.camera, config: h.config, log };
    await assert.rejects(startDbusService('session', deps, { busAddress: bus!.address }), /org\.facegate\.Daemon is already owned/);
    await assert.rejects(startDbusService('session', deps, { busAddress: `unix:path=${h.dir}/no-such-bus` }), /D-Bus \(session\)/);
    await assert.rejects(startDbusService('session', deps, { busAddress: 'bogus:' }), /D-Bus \(session\)/);
    assert.equal((await verifyOverDbus(h.client, ME, 5000)).answer, 'allow');
  } finally {
    await h.stop();
  }
});

// ---- as another uid ----

/** Runs a small dbus-next client as `nobody` against the bus; it prints one JSON object. */
async function asNobody(address: string, script: string): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-dbus-nobody-'));
  fs.chmodSync(dir, 0o755);
  const file = path.join(dir, 'client.mjs');
  const clientJs = path.join(PACKAGE_ROOT, 'dist', 'src', 'dbus', 'client.js');
  const dbusNext = path.join(PACKAGE_ROOT, 'node_modules', 'dbus-next', 'index.js');
  fs.writeFileSync(
    file,
    `import dbus from ${JSON.stringify(dbusNext)};
import { callFacegate, verifyOverDbus } from ${JSON.stringify(clientJs)};
const bus = dbus.sessionBus({ busAddress: process.argv[2] });
const errorOf = (p) => p.then(() => 'ok', (e) => e.type ?? String(e));
const out = {};
try {
${script}
} catch (e) { out.crash = String(e); }
process.stdout.write(JSON.stringify(out));
bus.disconnect();
`,
  );
  fs.chmodSync(file, 0o644);
  try {
    // Asynchronous: the service answering it runs in this process.
    const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, file, address], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout) as Record<string, unknown>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The client runs from this checkout, so nobody must be able to read it: a clone under a 0700 directory (root's
// home, a mktemp -d) cannot be, and the test would fail for a reason that is not facegate's.
const nobodyReads = (file: string): boolean =>
  spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'test', '-r', file]).status === 0;
const nobodySkip =
  noDaemon ||
  (!isRoot && 'needs root to run a client as nobody') ||
  (!haveSetpriv && 'setpriv is not installed') ||
  (!nobodyReads(path.join(PACKAGE_ROOT, 'node_modules', 'dbus-next', 'index.js')) &&
    `nobody cannot read this checkout (${PACKAGE_ROOT} or a directory above it is closed to others)`);

test('end to end as nobody: refused for another user, served for itself (uid from the bus)', { skip: nobodySkip }, async () => {
  const h = await start([200]);
  try {
    const out = await asNobody(
      bus!.address,
      `out.verifyAlice = await errorOf(callFacegate(bus, 'Verify', 's', ['alice']));
out.listAlice = await errorOf(callFacegate(bus, 'ListEnrolled', 's', ['alice']));
out.listSelf = (await callFacegate(bus, 'ListEnrolled', 's', ['nobody'])).body[0].map((r) => r[1]);
out.verifySelf = await verifyOverDbus(bus, 'nobody', 8000);`,
    );
    assert.equal(out.crash, undefined);
    assert.equal(out.verifyAlice, ERRORS.permissionDenied);
    assert.equal(out.listAlice, ERRORS.permissionDenied);
    assert.deepEqual(out.listSelf, ['default']);
    assert.deepEqual((out.verifySelf as { answer: string }).answer, 'allow');
    assert.match(h.logs.join('\n'), new RegExp(`msg="dbus not permitted" uid=${NOBODY} user=alice`));
    assert.match(h.logs.join('\n'), new RegExp(`msg=answer user=nobody service=dbus uid=${NOBODY} .*result=allow`));
  } finally {
    await h.stop();
  }
});

test('the system-bus policy file: only root owns the name, anyone may call it', { skip: nobodySkip }, async () => {
  // The defaults of the system bus (/usr/share/dbus-1/system.conf) plus our file, as installed.
  const policyFile = path.join(PACKAGE_ROOT, 'dbus', 'org.facegate.Daemon.conf');
  const sys = await startBus(`<policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>${policyFile}</include>`);
  try {
    const owned = await asNobody(sys.address, `out.own = await bus.requestName(${JSON.stringify(BUS_NAME)}, 4).then(String, (e) => e.type);`);
    assert.equal(owned.own, 'org.freedesktop.DBus.Error.AccessDenied');
    const h = await start([200], { address: sys.address });
    try {
      const out = await asNobody(
        sys.address,
        `out.status = (await callFacegate(bus, 'GetStatus')).signature;
out.verifyAlice = await errorOf(callFacegate(bus, 'Verify', 's', ['alice']));
out.verifySelf = await verifyOverDbus(bus, 'nobody', 8000);`,
      );
      assert.equal(out.crash, undefined);
      assert.equal(out.status, 'a{sv}');
      assert.equal(out.verifyAlice, ERRORS.permissionDenied);
      assert.equal((out.verifySelf as { answer: string }).answer, 'allow', 'the unicast signals reach the caller under the system policy');
    } finally {
      await h.stop();
    }
  } finally {
    await stopBus(sys);
  }
});

// ---- the real facegated ----

test('facegated refuses a bad --dbus value by name, before loading anything', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-dbus-main-'));
  try {
    fs.writeFileSync(path.join(dir, 'config.toml'), '');
    const r = spawnSync(process.execPath, [DAEMON_JS, '--config', path.join(dir, 'config.toml'), '--db', path.join(dir, 'f.db'), '--dbus', 'tcp'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /level=error msg="bad option" error="--dbus must be one of system, session, none, got \\"tcp\\""/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function realDaemonSkip(): string | false {
  if (noDaemon) return noDaemon;
  if (!fs.existsSync(path.join(modelsDir(), 'manifest.json'))) return `models not built in ${modelsDir()} (npm run build:models)`;
  const cal = calibrationDir();
  if (!fs.existsSync(cal) || !fs.readdirSync(cal).some((f) => f.endsWith('.json'))) return `no calibration tables in ${cal}`;
  return false;
}

test('facegated --dbus session exports the API next to its socket; without a bus it still serves PAM', { skip: realDaemonSkip() }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-dbus-main-'));
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(128, 64, 64));
  fs.writeFileSync(path.join(dir, 'config.toml'), replayConfigToml('', '[services]\ndbus = true\n'));
  const args = ['--config', path.join(dir, 'config.toml'), '--db', path.join(dir, 'f.db'), '--socket', path.join(dir, 's.sock'), '--camera', `replay:${cam}`];
  // The real daemon applies the local rule to this process (docs/policy.md): outside a logind session, as on a
  // CI runner, that is remote-session unless this uid sits at a seat and nowhere remote; inside a local one the
  // request gets as far as the templates.
  const locality = classifyLocality({ rhost: '', session: sessionOfPid(process.pid), greeter: false, user: userSessionsOfPid(process.pid) });
  const expect = locality === 'local' ? 'no-templates' : 'remote-session';
  try {
    const d = await startDaemon([...args, '--dbus', 'session'], { env: { DBUS_SESSION_BUS_ADDRESS: bus!.address } });
    const client = await connect(bus!.address);
    try {
      await until(() => d.count(/msg="dbus ready" bus=session name=org\.facegate\.Daemon/) === 1, 'dbus ready');
      const status = (await callFacegate(client, 'GetStatus'))!.body[0] as Record<string, { value: unknown }>;
      const ready = d.lines.find((l) => l.includes('msg=ready'))!;
      const models = status.models!.value as string[][];
      assert.ok(models.length > 0);
      for (const [id, sha] of models) assert.ok(ready.includes(`${id}@${sha!.slice(0, 12)}`), `${id} in ${ready}`);
      assert.equal(status.camera!.value, `replay:${cam}`);
      assert.deepEqual((await callFacegate(client, 'ListEnrolled', 's', [ME]))!.body[0], []);
      const out = await verifyOverDbus(client, ME, 10000);
      assert.deepEqual([out.answer, out.reason], ['unavailable', expect]);
    } finally {
      client.disconnect();
      await d.stop();
    }
    const lonely = await startDaemon([...args, '--dbus', 'session'], { env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/no-bus` } });
    try {
      await until(() => lonely.count(/msg="dbus unavailable"/) === 1, 'dbus unavailable');
      const a = await askDaemon(path.join(dir, 's.sock'), { user: ME, service: 'sudo', tty: '', rhost: '', deadlineMs: 2000 });
      assert.deepEqual([a.result, a.reason], ['unavailable', expect]);
    } finally {
      await lonely.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
