import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { CameraError, meanBrightness, openCamera, parseCameraSpec, type Camera, type Frame } from '../src/camera/camera.js';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-replay-'));
  made.push(d);
  return d;
}

function pgm(width: number, height: number, value: number): Buffer {
  return Buffer.concat([Buffer.from(`P5\n# test\n${width} ${height}\n255\n`), Buffer.alloc(width * height, value)]);
}

/** A directory whose files each carry their play position as the pixel value, written out of name order. */
function makeDir(values: number[]): string {
  const dir = tempDir();
  // Names chosen so that byte order (10 < 2) and numeric order differ.
  for (let i = values.length - 1; i >= 0; i--) fs.writeFileSync(path.join(dir, `${i + 1}.pgm`), pgm(8, 6, values[i]!));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  return dir;
}

async function take(cam: Camera, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of cam.frames()) {
    out.push(f);
    if (out.length === n) break;
  }
  return out;
}

test('spec parsing: accepted forms and options', () => {
  assert.deepEqual(parseCameraSpec('v4l2:/dev/video2'), { backend: 'v4l2', device: '/dev/video2', options: {} });
  assert.deepEqual(parseCameraSpec('/dev/video0'), { backend: 'v4l2', device: '/dev/video0', options: {} });
  assert.deepEqual(parseCameraSpec('replay:/tmp/x?fps=15&loop=0'), {
    backend: 'replay',
    dir: '/tmp/x',
    options: { fps: 15, loop: false },
  });
  assert.deepEqual(parseCameraSpec('v4l2:/dev/video0?width=320&height=240&format=yuyv,MJPEG&output=grey'), {
    backend: 'v4l2',
    device: '/dev/video0',
    options: { width: 320, height: 240, pixelFormats: ['YUYV', 'MJPG'], output: 'grey' },
  });
  assert.equal(parseCameraSpec('replay:rel/dir').backend, 'replay');
  assert.deepEqual(parseCameraSpec('/dev/video2?xu=14:6:0103&xu=4:2:ff').options.uvcXu, [
    { unit: 14, selector: 6, data: Uint8Array.from([1, 3]) },
    { unit: 4, selector: 2, data: Uint8Array.from([255]) },
  ]);
});

test('spec parsing: bad specs give clear errors', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['usb:0', /not understood.*v4l2:\/dev\/videoN/],
    ['replay:', /names no directory/],
    ['v4l2:video0', /absolute path/],
    ['replay:/d?fps=fast', /fps=fast is not a whole number/],
    ['replay:/d?fps=-1', /not a whole number/],
    ['replay:/d?speed=2', /unknown option "speed"/],
    ['replay:/d?loop=maybe', /not a boolean/],
    ['v4l2:/dev/video0?loop=1', /loop is a replay option/],
    ['v4l2:/dev/video0?format=H264', /unknown pixel format/],
    ['v4l2:/dev/video0?width=0', /outside/],
    ['v4l2:/dev/video0?xu=14:6:0g', /UNIT:SELECTOR:HEXBYTES/],
    ['v4l2:/dev/video0?xu=0:6:01', /must be 1\.\.255/],
    ['replay:/d?xu=1:1:01', /xu is a v4l2 option/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(
      () => parseCameraSpec(spec),
      (e: unknown) => e instanceof CameraError && e.code === 'BAD_SPEC' && re.test(e.message),
      spec,
    );
  }
});

test('replay plays files in numeric name order and loops', async () => {
  const values = Array.from({ length: 11 }, (_, i) => i * 10);
  const dir = makeDir(values);
  const cam = await openCamera(`replay:${dir}?fps=0`);
  assert.equal(cam.info.backend, 'replay');
  assert.equal(cam.info.width, 8);
  assert.equal(cam.info.height, 6);
  const frames = await take(cam, 25);
  assert.deepEqual(
    frames.map((f) => f.image.data[0]),
    Array.from({ length: 25 }, (_, i) => values[i % values.length]),
  );
  assert.deepEqual(
    frames.map((f) => f.sequence),
    Array.from({ length: 25 }, (_, i) => i),
  );
  assert.ok(frames.every((f) => f.image.channels === 1 && f.image.width === 8 && f.image.height === 6));
  // Breaking out of the loop leaves the camera open; the next loop continues where the last stopped.
  const more = await take(cam, 1);
  assert.equal(more[0]!.sequence, 25);
  await cam.close();
  await cam.close(); // idempotent
});

test('replay without loop ends after the last file; close ends an iteration', async () => {
  const dir = makeDir([1, 2, 3]);
  const cam = await openCamera(`replay:${dir}`, { fps: 0, loop: false });
  const seen: number[] = [];
  for await (const f of cam.frames()) seen.push(f.image.data[0]!);
  assert.deepEqual(seen, [1, 2, 3]);
  await cam.close();

  const looping = await openCamera(`replay:${dir}`, { fps: 0 });
  let n = 0;
  for await (const _ of looping.frames()) {
    if (++n === 5) void looping.close();
  }
  assert.ok(n >= 5);
  const after: Frame[] = [];
  for await (const f of looping.frames()) after.push(f);
  assert.equal(after.length, 0, 'a closed camera yields nothing');
});

test('replay paces frames with timers at the requested fps', async () => {
  const dir = makeDir([1, 2]);
  const cam = await openCamera(`replay:${dir}?fps=50`);
  assert.equal(cam.info.fps, 50);
  const frames = await take(cam, 6);
  await cam.close();
  // Five intervals of 20 ms cannot be delivered in less than ~100 ms (timers may be late, never early).
  const span = frames[5]!.timestampMs - frames[0]!.timestampMs;
  assert.ok(span >= 95, `6 frames at 50 fps spanned only ${span.toFixed(1)} ms`);
});

test('spec options override defaults given in code', async () => {
  const dir = makeDir([7]);
  const cam = await openCamera(`replay:${dir}?fps=5`, { fps: 100, loop: false });
  assert.equal(cam.info.fps, 5);
  await cam.close();
});

test('replay of a missing or empty directory fails with a clear error', async () => {
  await assert.rejects(
    openCamera('replay:/nonexistent/facegate-replay'),
    (e: unknown) => e instanceof CameraError && e.code === 'NOT_FOUND' && /does not exist/.test(e.message),
  );
  const empty = tempDir();
  fs.writeFileSync(path.join(empty, 'readme.txt'), 'x');
  await assert.rejects(openCamera(`replay:${empty}`), (e: unknown) => e instanceof CameraError && e.code === 'NO_IMAGES' && /no image files/.test(e.message));
  const file = path.join(empty, 'readme.txt');
  await assert.rejects(openCamera(`replay:${file}`), (e: unknown) => e instanceof CameraError && /not a directory/.test(e.message));
  const allBad = tempDir();
  fs.writeFileSync(path.join(allBad, 'a.jpg'), 'not a jpeg');
  await assert.rejects(
    openCamera(`replay:${allBad}`),
    (e: unknown) => e instanceof CameraError && e.code === 'NO_IMAGES' && /could be decoded/.test(e.message),
  );
});

test('an undecodable file is skipped and reported once, not a crash', async () => {
  const dir = makeDir([10, 20, 30]);
  fs.writeFileSync(path.join(dir, '2.pgm'), 'P5\n8 6\n255\nshort');
  fs.writeFileSync(path.join(dir, '2b.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
  const warnings: string[] = [];
  const cam = await openCamera(`replay:${dir}?fps=0`, { onWarning: (m) => warnings.push(m) });
  const frames = await take(cam, 6);
  await cam.close();
  assert.deepEqual(
    frames.map((f) => f.image.data[0]),
    [10, 30, 10, 30, 10, 30],
  );
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.ok(warnings.some((w) => /skipping 2\.pgm: PNM: truncated raster/.test(w)));
  assert.ok(warnings.some((w) => /skipping 2b\.jpg/.test(w)));
});

test('replay decodes JPEG and PNG and converts to the requested output', async () => {
  const dir = tempDir();
  const w = 16;
  const h = 8;
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set([200, 100, 50], i * 3);
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path.join(dir, 'a.png'));
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(path.join(dir, 'b.jpg'));
  const colour = await openCamera(`replay:${dir}?fps=0&loop=0`);
  const frames = await take(colour, 2);
  await colour.close();
  assert.deepEqual(
    frames.map((f) => f.image.channels),
    [3, 3],
  );
  assert.deepEqual(Array.from(frames[0]!.image.data.subarray(0, 3)), [200, 100, 50]);
  const jpg = frames[1]!.image.data;
  assert.ok(Math.abs(jpg[0]! - 200) <= 4 && Math.abs(jpg[1]! - 100) <= 4 && Math.abs(jpg[2]! - 50) <= 4, `jpeg pixel ${jpg[0]},${jpg[1]},${jpg[2]}`);

  const grey = await openCamera(`replay:${dir}?fps=0&loop=0&output=grey`);
  const g = await take(grey, 1);
  await grey.close();
  assert.equal(g[0]!.image.channels, 1);
  assert.equal(g[0]!.image.data[0], Math.round((77 * 200 + 150 * 100 + 29 * 50) / 256));
});

test('meanBrightness samples grey and RGB', () => {
  const grey = { width: 8, height: 8, channels: 1 as const, data: new Uint8Array(64).fill(40) };
  assert.equal(meanBrightness(grey), 40);
  const rgb = { width: 4, height: 4, channels: 3 as const, data: new Uint8Array(48) };
  for (let i = 0; i < 16; i++) rgb.data.set([0, 90, 255], i * 3);
  assert.equal(meanBrightness(rgb, 1), 90);
});
