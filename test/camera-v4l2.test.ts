// The V4L2 backend end to end (TS wrapper + our addon) against the LD_PRELOAD fake device, plus the pure parts
// (pixel conversion, size choice, MJPEG Huffman insertion) in process.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { CameraError, openCamera } from '../src/camera/camera.js';
import { decodeMjpeg } from '../src/camera/mjpeg.js';
import { greyFromYuyv, rgbFromYuyv } from '../src/camera/pixels.js';
import { chooseFormat, chooseSize } from '../src/camera/v4l2.js';
import { addonPath } from '../src/camera/v4l2-native.js';
import { FAKE_DEVICE, readLog, runFakeChild, type ChildFrame } from './fake-v4l2/fake-device.js';

const addonMissing = !fs.existsSync(addonPath()) && `v4l2 addon not built (${addonPath()}): run npm run build:native`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-v4l2-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let logCounter = 0;
function logFile(): string {
  return path.join(tmp, `ioctl-${++logCounter}.log`);
}

// The fake device's pattern (see fake_v4l2.c).
const patY = (x: number, y: number, s: number) => (x + 3 * y + 7 * s) & 255;
const patU = (x: number, y: number) => (2 * (x & ~1) + y) & 255;
const patV = (x: number, y: number) => (255 - (x & ~1) - 2 * y) & 255;

/**
 * Frame sequences are relative to the first delivered frame, but the device counts every frame it produced:
 * when the first wait finds several frames ready (a loaded machine), it delivers the newest, so relative 0 may be
 * device frame k. Returns the k (< 64) for which `worst(k)` is smallest, so pixel checks compare with the right
 * pattern without assuming how many frames were dropped.
 */
function deviceOffset(worst: (k: number) => number): number {
  let best = 0;
  let bestErr = Infinity;
  for (let k = 0; k < 64; k++) {
    const e = worst(k);
    if (e < bestErr) [best, bestErr] = [k, e];
  }
  return best;
}

/** BT.601 limited-range YCbCr -> RGB in floating point, as an independent reference for the integer code. */
function refRgb(Y: number, U: number, V: number): [number, number, number] {
  const c = 1.164383 * (Y - 16);
  const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return [clamp(c + 1.596027 * (V - 128)), clamp(c - 0.391762 * (U - 128) - 0.812968 * (V - 128)), clamp(c + 2.017232 * (U - 128))];
}

function pixels(f: ChildFrame): Uint8Array {
  return new Uint8Array(Buffer.from(f.data!, 'base64'));
}

/** Index of the first log line matching each pattern, asserting they occur in this order. */
function assertOrder(log: string[], patterns: RegExp[]): void {
  let from = 0;
  for (const p of patterns) {
    const i = log.findIndex((l, k) => k >= from && p.test(l));
    assert.ok(i >= 0, `expected ${p} after line ${from} in:\n${log.join('\n')}`);
    from = i + 1;
  }
}

function assertReleased(log: string[]): void {
  const mapped = log.filter((l) => /^mmap \d+$/.test(l)).length;
  const unmapped = log.filter((l) => /^munmap \d+$/.test(l)).length;
  assert.ok(mapped >= 2, 'buffers were mapped');
  assert.equal(unmapped, mapped, 'every mapped buffer is unmapped');
  assert.ok(!log.some((l) => l.startsWith('LEAK')), log.join('\n'));
  const streamoff = log.lastIndexOf('VIDIOC_STREAMOFF');
  const firstMunmap = log.findIndex((l) => l.startsWith('munmap'));
  assert.ok(streamoff >= 0 && streamoff < firstMunmap, 'STREAMOFF before munmap');
  assertOrder(log.slice(streamoff), [/^munmap/, /^VIDIOC_REQBUFS 0 -> 0$/, /^close$/]);
  assert.equal(log.filter((l) => l === 'close').length, 1, 'closed exactly once');
}

test('negotiation picks GREY when offered, frames match the pattern, close releases everything', { skip: addonMissing }, async () => {
  const log = logFile();
  const r = await runFakeChild(
    { spec: `v4l2:${FAKE_DEVICE}`, opts: { width: 64, height: 48, fps: 60 }, frames: 3, data: true },
    { FAKE_V4L2_LOG: log, FAKE_V4L2_FORMATS: 'YUYV,MJPG,GREY', FAKE_V4L2_SIZES: '160x120,64x48,32x24' },
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.info!.pixelFormat, 'GREY');
  assert.equal(r.info!.width, 64);
  assert.equal(r.info!.height, 48);
  assert.equal(r.info!.fps, 60);
  assert.equal(r.info!.card, 'Fake IR Camera');
  assert.equal(r.frames.length, 3);
  const k = deviceOffset((k) => Math.abs(pixels(r.frames[0]!)[0]! - patY(0, 0, k)));
  for (const f of r.frames) {
    assert.deepEqual([f.width, f.height, f.channels], [64, 48, 1]);
    const d = pixels(f);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) assert.equal(d[y * 64 + x], patY(x, y, f.sequence + k), `(${x},${y}) seq ${f.sequence}+${k}`);
  }
  // Sequences start at 0 and grow; a consumer slower than the camera sees gaps (newest frame wins).
  const seqs = r.frames.map((f) => f.sequence);
  assert.equal(seqs[0], 0);
  assert.ok(
    seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
    `sequences ${seqs}`,
  );
  assert.ok(r.frames[1]!.timestampMs > r.frames[0]!.timestampMs);
  const lines = readLog(log);
  assertOrder(lines, [
    /^open \/dev\/video-fake0 O_NONBLOCK$/,
    /^VIDIOC_QUERYCAP$/,
    /^VIDIOC_ENUM_FMT 0 YUYV$/,
    /^VIDIOC_ENUM_FMT 3 EINVAL$/,
    /^VIDIOC_ENUM_FRAMESIZES GREY 0 160x120$/,
    /^VIDIOC_S_FMT GREY 64x48 -> GREY 64x48$/,
    /^VIDIOC_G_FMT GREY 64x48$/,
    /^VIDIOC_G_PARM/,
    /^VIDIOC_S_PARM 1\/60$/,
    /^VIDIOC_REQBUFS 4 -> 4$/,
    /^VIDIOC_QUERYBUF 0$/,
    /^mmap 0$/,
    /^VIDIOC_QUERYBUF 3$/,
    /^mmap 3$/,
    /^VIDIOC_QBUF 0$/,
    /^VIDIOC_QBUF 3$/,
    /^VIDIOC_STREAMON$/,
    /^VIDIOC_DQBUF \d seq=0$/,
    /^VIDIOC_QBUF \d$/,
    /^VIDIOC_DQBUF \d seq=2$/,
    /^VIDIOC_STREAMOFF$/,
  ]);
  assertReleased(lines);
});

test('YUYV converts to RGB (BT.601) and to grey, honouring the format preference', { skip: addonMissing }, async () => {
  const env = { FAKE_V4L2_FORMATS: 'MJPG,YUYV', FAKE_V4L2_SIZES: '32x24' };
  const rgb = await runFakeChild({ spec: `v4l2:${FAKE_DEVICE}`, frames: 2, data: true }, env);
  assert.equal(rgb.error, undefined, JSON.stringify(rgb.error));
  assert.equal(rgb.info!.pixelFormat, 'YUYV');
  const rgbWorst = (f: (typeof rgb.frames)[number], s: number): number => {
    const d = pixels(f);
    let worst = 0;
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) {
        const want = refRgb(patY(x, y, s), patU(x, y), patV(x, y));
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(d[(y * 32 + x) * 3 + c]! - want[c]!));
      }
    }
    return worst;
  };
  const k = deviceOffset((k) => rgbWorst(rgb.frames[0]!, k));
  for (const f of rgb.frames) {
    assert.deepEqual([f.width, f.height, f.channels], [32, 24, 3]);
    const worst = rgbWorst(f, f.sequence + k);
    assert.ok(worst <= 1, `RGB differs from the BT.601 reference by ${worst}`);
  }
  const grey = await runFakeChild({ spec: `v4l2:${FAKE_DEVICE}?output=grey`, frames: 1, data: true }, env);
  assert.equal(grey.error, undefined, JSON.stringify(grey.error));
  const f = grey.frames[0]!;
  assert.equal(f.channels, 1);
  const d = pixels(f);
  const greyOf = (Y: number) => Math.min(255, Math.max(0, Math.round(1.164383 * (Y - 16))));
  const kg = deviceOffset((k) => Math.abs(d[1]! - greyOf(patY(1, 0, f.sequence + k))) + Math.abs(d[40]! - greyOf(patY(8, 1, f.sequence + k))));
  for (let y = 0; y < 24; y++) {
    for (let x = 0; x < 32; x++) {
      const want = greyOf(patY(x, y, f.sequence + kg));
      assert.ok(Math.abs(d[y * 32 + x]! - want) <= 1, `grey (${x},${y}) ${d[y * 32 + x]} vs ${want}`);
    }
  }
  // An explicit preference list wins over the default order.
  const mj = await runFakeChild({ spec: `v4l2:${FAKE_DEVICE}?format=MJPG`, frames: 0 }, { ...env, FAKE_V4L2_MJPEG: '/nonexistent' });
  assert.equal(mj.info?.pixelFormat, 'MJPG');
});

test('MJPEG frames decode with sharp', { skip: addonMissing }, async () => {
  const w = 64;
  const h = 48;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([x * 4, y * 5, 128], (y * w + x) * 3);
  const file = path.join(tmp, 'frame.jpg');
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(file);
  const r = await runFakeChild(
    { spec: `v4l2:${FAKE_DEVICE}`, opts: { width: w, height: h }, frames: 2, data: true },
    { FAKE_V4L2_FORMATS: 'MJPG', FAKE_V4L2_SIZES: `${w}x${h}`, FAKE_V4L2_MJPEG: file },
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.info!.pixelFormat, 'MJPG');
  const ref = await sharp(file).raw().toBuffer();
  for (const f of r.frames) {
    assert.deepEqual([f.width, f.height, f.channels], [w, h, 3]);
    assert.deepEqual(pixels(f), new Uint8Array(ref));
  }
  // Garbage in an MJPEG stream is dropped with a warning, then reported as an error if it persists.
  const bad = await runFakeChild(
    { spec: `v4l2:${FAKE_DEVICE}`, opts: { width: w, height: h }, frames: 1 },
    { FAKE_V4L2_FORMATS: 'MJPG', FAKE_V4L2_SIZES: `${w}x${h}`, FAKE_V4L2_FPS: '120' },
  );
  assert.equal(bad.error?.code, 'IO');
  assert.match(bad.error!.message, /could not be decoded/);
  assert.ok(bad.warnings.length >= 1 && /undecodable MJPG frame/.test(bad.warnings[0]!));
});

test('a device without streaming I/O or capture is refused with a clear error, and closed', { skip: addonMissing }, async () => {
  const log = logFile();
  const r = await runFakeChild({ spec: FAKE_DEVICE, frames: 1 }, { FAKE_V4L2_NO_STREAMING: '1', FAKE_V4L2_LOG: log });
  assert.equal(r.error?.code, 'NO_STREAMING');
  assert.match(r.error!.message, /\/dev\/video-fake0 \(Fake IR Camera, driver fake_v4l2\) does not support streaming/);
  assert.deepEqual(readLog(log), ['open /dev/video-fake0 O_NONBLOCK', 'VIDIOC_QUERYCAP', 'close']);

  const out = await runFakeChild({ spec: FAKE_DEVICE, frames: 1 }, { FAKE_V4L2_NO_CAPTURE: '1' });
  assert.equal(out.error?.code, 'NOT_CAPTURE');
  assert.match(out.error!.message, /not a video capture device/);

  const none = await runFakeChild({ spec: `${FAKE_DEVICE}?format=GREY`, frames: 1 }, { FAKE_V4L2_FORMATS: 'YUYV' });
  assert.equal(none.error?.code, 'NO_FORMAT');
  assert.match(none.error!.message, /offers YUYV, none of GREY/);
});

test('open failures map to clear errors', { skip: addonMissing }, async () => {
  await assert.rejects(
    openCamera('v4l2:/dev/video-facegate-absent'),
    (e: unknown) => e instanceof CameraError && e.code === 'NOT_FOUND' && /\/dev\/video-facegate-absent does not exist/.test(e.message),
  );
  await assert.rejects(openCamera('/dev/null'), (e: unknown) => e instanceof CameraError && e.code === 'IO' && /\/dev\/null/.test(e.message));
  await assert.rejects(openCamera(`v4l2:${tmp}`), (e: unknown) => e instanceof CameraError && /not a character device|EISDIR|directory/i.test(e.message));
  const denied = await runFakeChild({ spec: FAKE_DEVICE, frames: 1 }, { FAKE_V4L2_OPEN_ERRNO: '13' });
  assert.equal(denied.error?.code, 'ACCESS');
  assert.match(denied.error!.message, /no permission to open \/dev\/video-fake0/);
  const busy = await runFakeChild({ spec: FAKE_DEVICE, opts: { width: 32, height: 24 }, frames: 1, scenario: 'second-open' }, { FAKE_V4L2_SIZES: '32x24' });
  assert.equal(busy.error, undefined, JSON.stringify(busy.error));
  assert.equal(busy.secondOpenError?.code, 'BUSY');
});

test('close interrupts a frame wait at once; a stalled device times out with TIMEOUT', { skip: addonMissing }, async () => {
  const log = logFile();
  const r = await runFakeChild(
    { spec: FAKE_DEVICE, opts: { width: 32, height: 24 }, frames: 1, scenario: 'close-while-waiting' },
    { FAKE_V4L2_SIZES: '32x24', FAKE_V4L2_LOG: log, FAKE_V4L2_STALL_AFTER: '1' },
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r.warnings, []);
  // The device gives no second frame: only the wake eventfd can have ended the wait.
  const lines = readLog(log);
  assert.ok(lines.some((l) => /^VIDIOC_DQBUF \d seq=0$/.test(l)));
  assert.ok(!lines.some((l) => /seq=1$/.test(l)), lines.join('\n'));
  assertReleased(lines);

  const stalled = await runFakeChild(
    { spec: FAKE_DEVICE, opts: { width: 32, height: 24, frameTimeoutMs: 50 }, frames: 2 },
    { FAKE_V4L2_SIZES: '32x24', FAKE_V4L2_STALL_AFTER: '1' },
  );
  assert.equal(stalled.error?.code, 'TIMEOUT');
  assert.match(stalled.error!.message, /no frame within 50 ms/);
  assert.equal(stalled.frames.length, 1);
});

test('exposure control and the UVC XU write for the IR emitter are sent before streaming', { skip: addonMissing }, async () => {
  const log = logFile();
  const emitter = [1, 3, 3, 0, 0, 0, 0, 0, 0];
  const r = await runFakeChild(
    {
      spec: `${FAKE_DEVICE}?exposure=9999&xu=14:7:0102`,
      opts: { width: 32, height: 24, uvcXu: [{ unit: 14, selector: 6, data: emitter }] },
      frames: 1,
    },
    { FAKE_V4L2_SIZES: '32x24', FAKE_V4L2_LOG: log },
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const lines = readLog(log);
  assertOrder(lines, [
    /^VIDIOC_S_FMT/,
    /^VIDIOC_QUERYCTRL 0x9a0901$/,
    /^VIDIOC_S_CTRL 0x9a0901 1$/,
    /^VIDIOC_QUERYCTRL 0x9a0902$/,
    /^VIDIOC_S_CTRL 0x9a0902 5000$/,
    /^VIDIOC_G_CTRL 0x9a0902 5000$/,
    /^UVCIOC_CTRL_QUERY unit=14 selector=6 query=0x85 size=2/,
    /^UVCIOC_CTRL_QUERY unit=14 selector=6 query=0x1 size=9 010303000000000000$/,
    /^VIDIOC_STREAMON$/,
  ]);
  assert.ok(
    r.warnings.some((w) => /exposure 9999 clamped to 5000/.test(w)),
    r.warnings.join('\n'),
  );
  assert.ok(
    r.warnings.some((w) => /selector 7 takes 9 bytes, config gives 2; not sent/.test(w)),
    r.warnings.join('\n'),
  );
  assert.ok(!lines.some((l) => /selector=7 query=0x1/.test(l)));
});

test('probe lists formats and sizes, flags GREY cameras as IR, never streams', { skip: addonMissing }, async () => {
  const log = logFile();
  const r = await runFakeChild({ spec: FAKE_DEVICE, frames: 0, scenario: 'probe' }, { FAKE_V4L2_LOG: log, FAKE_V4L2_SIZES: '640x360,320x180' });
  const probe = r.probe as { cameras: Array<Record<string, unknown>>; failures: Array<Record<string, unknown>> };
  assert.deepEqual(probe.cameras, [
    {
      device: FAKE_DEVICE,
      driver: 'fake_v4l2',
      card: 'Fake IR Camera',
      busInfo: 'fake:0',
      usable: true,
      formats: ['GREY', 'YUYV', 'MJPG'].map((fourcc) => ({ fourcc, sizes: ['640x360', '320x180'] })),
      likelyIr: true,
    },
  ]);
  assert.equal(probe.failures.length, 1);
  assert.equal(probe.failures[0]!.code, 'NOT_FOUND');
  const lines = readLog(log);
  assert.ok(!lines.some((l) => /REQBUFS|STREAMON|S_FMT/.test(l)), lines.join('\n'));
  assert.equal(lines[lines.length - 1], 'close');
  const cams = async (env: Record<string, string>) => {
    const res = await runFakeChild({ spec: FAKE_DEVICE, frames: 0, scenario: 'probe' }, env);
    const cam = (res.probe as { cameras: Array<{ usable: boolean; likelyIr: boolean }> }).cameras[0]!;
    return [cam.usable, cam.likelyIr];
  };
  assert.deepEqual(await cams({ FAKE_V4L2_FORMATS: 'YUYV,MJPG', FAKE_V4L2_CARD: 'HD Webcam' }), [true, false]);
  assert.deepEqual(await cams({ FAKE_V4L2_FORMATS: 'YUYV', FAKE_V4L2_CARD: 'Integrated IR Camera' }), [true, true]);
  assert.deepEqual(await cams({ FAKE_V4L2_NO_STREAMING: '1' }), [false, false]);
});

test('YUYV conversion of known colours and row padding', () => {
  // BT.601 studio-range white, black and the primaries (Y, Cb, Cr) as a camera sends them.
  const px: Array<[number, number, number, [number, number, number]]> = [
    [235, 128, 128, [255, 255, 255]],
    [16, 128, 128, [0, 0, 0]],
    [81, 90, 240, [255, 0, 0]],
    [145, 54, 34, [0, 255, 0]],
    [41, 240, 110, [0, 0, 255]],
  ];
  for (const [Y, U, V, want] of px) {
    const src = Uint8Array.from([Y, U, Y, V, 0, 0, 0, 0]); // 2x1 image, 4 bytes of row padding
    const img = rgbFromYuyv(src, 2, 1, 8);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(img.data[c]! - want[c]!) <= 2, `Y${Y} U${U} V${V}: ${Array.from(img.data)}`);
  }
  const padded = Uint8Array.from([16, 0, 235, 0, 9, 9, 126, 0, 126, 0, 9, 9]);
  assert.deepEqual(Array.from(greyFromYuyv(padded, 2, 2, 6).data), [0, 255, 128, 128]);
});

test('size and format choice', () => {
  const sizes = {
    discrete: [
      { width: 1280, height: 720 },
      { width: 640, height: 480 },
      { width: 640, height: 360 },
      { width: 320, height: 240 },
    ],
  };
  assert.deepEqual(chooseSize(sizes, 640, 480), { width: 640, height: 480 });
  assert.deepEqual(chooseSize(sizes, 600, 400), { width: 640, height: 360 });
  assert.deepEqual(chooseSize(sizes, 4000, 3000), { width: 1280, height: 720 });
  const step = { discrete: [], stepwise: { minWidth: 16, maxWidth: 1920, stepWidth: 16, minHeight: 16, maxHeight: 1080, stepHeight: 8 } };
  assert.deepEqual(chooseSize(step, 650, 5000), { width: 656, height: 1080 });
  assert.equal(chooseFormat(['YUYV', 'GREY'], ['GREY', 'YUYV', 'MJPG']), 'GREY');
  assert.equal(chooseFormat(['H264'], ['GREY', 'YUYV', 'MJPG']), null);
});

/** Marker segments of a JPEG header up to SOS. */
function headerSegments(jpeg: Uint8Array): Array<{ marker: number; start: number; end: number }> {
  const out: Array<{ marker: number; start: number; end: number }> = [];
  for (let i = 2; i + 4 <= jpeg.length; ) {
    const marker = jpeg[i + 1]!;
    const end = i + 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
    out.push({ marker, start: i, end });
    if (marker === 0xda) break;
    i = end;
  }
  return out;
}

test('MJPEG without Huffman tables (as many UVC cameras send) decodes like the full JPEG', async () => {
  const w = 32;
  const h = 16;
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set([i & 255, (i * 3) & 255, 200], i * 3);
  // Without Huffman optimisation libjpeg writes the standard tables, which a camera may leave out.
  const full = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90, optimiseCoding: false })
    .toBuffer();
  const dht = headerSegments(full).filter((s) => s.marker === 0xc4);
  assert.ok(dht.length > 0);
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of dht) {
    parts.push(full.subarray(at, s.start));
    at = s.end;
  }
  parts.push(full.subarray(at));
  const stripped = Buffer.concat(parts);
  assert.ok(!headerSegments(stripped).some((s) => s.marker === 0xc4));
  const want = await sharp(full).raw().toBuffer();
  const got = await decodeMjpeg(stripped, 3);
  assert.deepEqual(got.data, new Uint8Array(want));
  const grey = await decodeMjpeg(stripped, 1);
  assert.equal(grey.channels, 1);
  assert.equal(grey.data.length, w * h);
  await assert.rejects(decodeMjpeg(Uint8Array.from([0, 1, 2, 3, 4]), 3), /not a JPEG/);
});
