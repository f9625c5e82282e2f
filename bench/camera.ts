/**
 * Camera open/first-frame/close times and conversion costs: `npm run bench:camera -- [--runs 20] [--json]`.
 * V4L2 numbers come from our real wrapper and addon against the LD_PRELOAD fake device (test/fake-v4l2), so they
 * measure our side only: a real camera adds its own start-up (typically 100-500 ms to the first frame).
 * Replay numbers use generated 640x480 images in a temp dir. Needs `npm run build:native` and `cc`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openCamera } from '../src/camera/camera.js';
import { decodeMjpeg } from '../src/camera/mjpeg.js';
import { greyFromYuyv, rgbFromYuyv } from '../src/camera/pixels.js';
import { FAKE_DEVICE, runFakeChild } from '../test/fake-v4l2/fake-device.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } },
});
const RUNS = Math.max(2, Number(values.runs) || 20);
const W = 640;
const H = 480;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function p95(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? NaN;
}

const results: Record<string, number> = {};
const rows: Array<[string, string]> = [];
function record(key: string, label: string, value: number, unit = 'ms'): void {
  results[key] = Math.round(value * 1000) / 1000;
  rows.push([label, `${value.toFixed(unit === 'ms' ? 2 : 0)} ${unit}`]);
}

async function benchFake(format: 'GREY' | 'YUYV' | 'MJPG', jpeg: string): Promise<void> {
  const r = await runFakeChild(
    { spec: `v4l2:${FAKE_DEVICE}`, opts: { width: W, height: H, fps: 30 }, frames: 1, repeat: RUNS + 1 },
    { FAKE_V4L2_FORMATS: format, FAKE_V4L2_SIZES: `${W}x${H}`, FAKE_V4L2_MJPEG: jpeg },
  );
  if (r.error || !r.runs) throw new Error(`fake ${format}: ${JSON.stringify(r.error)}`);
  const cold = r.runs[0]!;
  const warm = r.runs.slice(1);
  const k = format.toLowerCase();
  record(`v4l2_${k}_cold_first_frame_ms`, `v4l2 fake ${format} ${W}x${H}: cold open→first frame (loads addon)`, cold.firstFrameMs);
  record(`v4l2_${k}_open_ms`, `v4l2 fake ${format}: open (negotiate + mmap + STREAMON), median`, median(warm.map((x) => x.openMs)));
  record(`v4l2_${k}_first_frame_ms`, `v4l2 fake ${format}: open→first frame, median`, median(warm.map((x) => x.firstFrameMs)));
  record(`v4l2_${k}_first_frame_p95_ms`, `v4l2 fake ${format}: open→first frame, p95`, p95(warm.map((x) => x.firstFrameMs)));
  record(`v4l2_${k}_close_ms`, `v4l2 fake ${format}: close (STREAMOFF + munmap + close), median`, median(warm.map((x) => x.closeMs)));
}

async function benchReplay(dir: string, label: string, key: string): Promise<void> {
  const open: number[] = [];
  const first: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const cam = await openCamera(`replay:${dir}?fps=30`);
    open.push(performance.now() - t0);
    for await (const _ of cam.frames()) break;
    first.push(performance.now() - t0);
    const tc = performance.now();
    await cam.close();
    close.push(performance.now() - tc);
  }
  record(`replay_${key}_open_ms`, `replay ${label}: open (list + decode first), median`, median(open));
  record(`replay_${key}_first_frame_ms`, `replay ${label}: open→first frame, median`, median(first));
  record(`replay_${key}_close_ms`, `replay ${label}: close, median`, median(close));
  // Unpaced throughput over two loops (the second served from the cache).
  const cam = await openCamera(`replay:${dir}?fps=0`);
  const n = 100;
  const t0 = performance.now();
  let k = 0;
  for await (const _ of cam.frames()) if (++k >= n) break;
  const fps = (n * 1000) / (performance.now() - t0);
  await cam.close();
  record(`replay_${key}_unpaced_fps`, `replay ${label}: unpaced frames/s (10 files, cached after one loop)`, fps, 'fps');
}

function benchConversions(): void {
  const yuyv = new Uint8Array(W * H * 2);
  for (let i = 0; i < yuyv.length; i++) yuyv[i] = (i * 7) & 255;
  const out3 = new Uint8Array(W * H * 3);
  const out1 = new Uint8Array(W * H);
  const time = (f: () => void) => {
    for (let i = 0; i < 20; i++) f(); // warm the JIT
    const xs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      f();
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  record(
    'yuyv_to_rgb_ms',
    `YUYV→RGB ${W}x${H}, median`,
    time(() => rgbFromYuyv(yuyv, W, H, W * 2, out3)),
  );
  record(
    'yuyv_to_grey_ms',
    `YUYV→grey ${W}x${H}, median`,
    time(() => greyFromYuyv(yuyv, W, H, W * 2, out1)),
  );
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-bench-camera-'));
  try {
    const rgb = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb.set([x & 255, y & 255, (x + y) & 255], (y * W + x) * 3);
    const jpegDir = path.join(tmp, 'jpeg');
    const pgmDir = path.join(tmp, 'pgm');
    fs.mkdirSync(jpegDir);
    fs.mkdirSync(pgmDir);
    const grey = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .greyscale()
      .raw()
      .toBuffer();
    for (let i = 0; i < 10; i++) {
      await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
        .jpeg({ quality: 85 })
        .toFile(path.join(jpegDir, `${i}.jpg`));
      fs.writeFileSync(path.join(pgmDir, `${i}.pgm`), Buffer.concat([Buffer.from(`P5\n${W} ${H}\n255\n`), grey]));
    }
    const jpeg = path.join(jpegDir, '0.jpg');

    for (const f of ['GREY', 'YUYV', 'MJPG'] as const) await benchFake(f, jpeg);
    await benchReplay(pgmDir, `PGM ${W}x${H}`, 'pgm');
    await benchReplay(jpegDir, `JPEG ${W}x${H}`, 'jpeg');
    benchConversions();
    const bytes = fs.readFileSync(jpeg);
    await decodeMjpeg(bytes, 3);
    const xs: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await decodeMjpeg(bytes, 3);
      xs.push(performance.now() - t);
    }
    record('mjpeg_decode_ms', `MJPEG→RGB ${W}x${H} (sharp), median`, median(xs));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (values.json) {
    console.log(JSON.stringify({ runs: RUNS, cpus: os.cpus().length, loadavg1: os.loadavg()[0], ...results }));
    return;
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`camera bench: ${RUNS} runs each, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
  for (const [label, v] of rows) console.log(`${label.padEnd(width)}  ${v}`);
}

await main();
