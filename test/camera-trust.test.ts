// Camera trust (issue 7): v4l2loopback and replay cameras are refused unless the config allows them, and a face is
// only checked against the camera it was enrolled with (driver, card, bus, USB serial).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeLiveness } from './helpers/fake-liveness.js';
import { CameraManager, LeaseError, type CameraOpener } from '../src/auth/camera-manager.js';
import { openCamera, type Camera, type CameraInfo } from '../src/camera/camera.js';
import { identityOf, untrustedCamera, usbSerialOf, type CameraIdentity } from '../src/camera/identity.js';
import { defaultConfig } from '../src/config/config.js';
import { askDaemon } from '../src/daemon/client.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { lookupFromSync } from '../src/daemon/user-directory.js';
import { TemplateStore } from '../src/store/store.js';
import { FakeEngine, MODEL, fakeEmbedding, pgm } from './helpers/fake-engine.js';

const IR: CameraIdentity = { driver: 'uvcvideo', card: 'Integrated IR Camera', bus: 'usb-0000:00:14.0-5', serial: '200901010001' };
const v4l2Info = (id: CameraIdentity): CameraInfo => ({
  spec: 'v4l2:/dev/video2',
  backend: 'v4l2',
  source: '/dev/video2',
  pixelFormat: 'GREY',
  width: 32,
  height: 32,
  fps: 30,
  driver: id.driver,
  card: id.card,
  busInfo: id.bus,
  ...(id.serial ? { serial: id.serial } : {}),
});

test('untrustedCamera: loopback and replay only when allowed', () => {
  const deny = { allow_loopback: false, allow_replay: false };
  assert.equal(untrustedCamera(v4l2Info(IR), deny), null);
  const loop = v4l2Info({ driver: 'v4l2 loopback', card: 'Integrated IR Camera', bus: 'platform:v4l2loopback-000' });
  assert.match(untrustedCamera(loop, deny)!, /v4l2loopback device/);
  assert.equal(untrustedCamera(loop, { ...deny, allow_loopback: true }), null);
  const replay: CameraInfo = { spec: 'replay:/x', backend: 'replay', source: '/x', pixelFormat: 'file', width: 1, height: 1, fps: 0 };
  assert.match(untrustedCamera(replay, deny)!, /camera\.allow_replay = true/);
  assert.equal(untrustedCamera(replay, { ...deny, allow_replay: true }), null);
  assert.deepEqual(identityOf(v4l2Info(IR)), IR);
});

test('usbSerialOf reads the USB device serial above the video4linux node, when there is one', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sys-'));
  try {
    const usb = path.join(root, 'devices', 'usb1', '1-5');
    const intf = path.join(usb, '1-5:1.2');
    fs.mkdirSync(intf, { recursive: true });
    fs.writeFileSync(path.join(usb, 'serial'), '200901010001\n');
    const cls = path.join(root, 'class', 'video4linux', 'video2');
    fs.mkdirSync(cls, { recursive: true });
    fs.symlinkSync(intf, path.join(cls, 'device'));
    const dev = path.join(root, 'video2');
    fs.writeFileSync(dev, '');
    assert.equal(usbSerialOf(dev, root), '200901010001');
    fs.writeFileSync(path.join(usb, 'serial'), 'bad serial with spaces\n');
    assert.equal(usbSerialOf(dev, root), undefined);
    assert.equal(usbSerialOf(path.join(root, 'nothing'), root), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('CameraManager refuses an untrusted camera before any frame is read', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-trust-'));
  fs.writeFileSync(path.join(dir, '000.pgm'), pgm(100));
  const logs: string[] = [];
  const cm = new CameraManager(
    `replay:${dir}`,
    0,
    createLogger((l) => logs.push(l)),
    undefined,
    (info) => untrustedCamera(info, { allow_loopback: false, allow_replay: false }),
  );
  try {
    await assert.rejects(
      cm.acquire(performance.now() + 2000),
      (e: unknown) => e instanceof LeaseError && e.reason === 'camera-error' && /allow_replay/.test(e.message),
    );
    assert.equal(cm.isOpen, false);
    assert.equal(cm.busy, false, 'the next request may try again');
    assert.match(logs.join('\n'), /msg="camera refused"/);
  } finally {
    await cm.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the daemon refuses a camera other than the one the face was enrolled with', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-trust-'));
  fs.chmodSync(dir, 0o755);
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(200));
  let current = IR;
  // The replay frames, presented as a V4L2 camera with whatever identity the test sets.
  const opener: CameraOpener = async (spec) => {
    const real = await openCamera(spec);
    const cam2: Camera = { info: v4l2Info(current), frames: () => real.frames(), close: () => real.close() };
    return cam2;
  };
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  store.addFace('alice', 'ir', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: 1000, camera: IR });
  const logs: string[] = [];
  const log = createLogger((l) => logs.push(l));
  const camera = new CameraManager(`replay:${cam}?fps=30`, 0, log, opener);
  const config = defaultConfig();
  const server = new FacegateServer({
    config,
    store,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log,
    users: lookupFromSync(
      () => null,
      (n) => (n === 'alice' ? 1000 : null),
    ),
    sessionOf: () => 'local',
  });
  const sock = path.join(dir, 's.sock');
  await server.listenPath(sock);
  const ask = (): Promise<string> =>
    askDaemon(sock, { user: 'alice', service: 'sudo', tty: '', rhost: '', deadlineMs: 2000 }).then((a) => `${a.result}/${a.reason}`);
  try {
    assert.equal(await ask(), 'allow/match');
    current = { ...IR, serial: '200901019999' }; // same model of camera, another unit
    assert.equal(await ask(), 'unavailable/camera-error');
    assert.match(logs.join('\n'), /is not the one alice enrolled with/);
    current = { driver: 'v4l2 loopback', card: IR.card, bus: 'platform:v4l2loopback-000' };
    assert.equal(await ask(), 'unavailable/camera-error');
    current = IR;
    assert.equal(await ask(), 'allow/match');
  } finally {
    await server.close();
    await camera.shutdown();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
