import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FaceApiReference } from '../src/models/faceapi/reference.js';
import { FaceRecNetEmbedder } from '../src/embed/facerecnet.js';
import { FaceApiLandmarker } from '../src/vision/landmarks68.js';
import { BlazeFace } from '../src/vision/blazeface.js';
import { realFaces } from './helpers/fixtures.js';
import type { Box, Point, RawImage } from '../src/vision/types.js';

/** Deterministic 8-bit image: smooth gradients, a few blobs and LCG noise, so every layer sees varied input. */
export function syntheticImage(width: number, height: number, channels: 1 | 3, seed = 1): RawImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const blob = 80 * Math.exp(-(((x - width * 0.35) ** 2 + (y - height * 0.4) ** 2) / (0.02 * width * height)));
        const v = ((x * (1 + c) * 255) / width) * 0.4 + ((y * 255) / height) * 0.3 + blob + (s >>> 24) * 0.15;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width, height, channels, data };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Real faces (lfw-dev, else test/fixtures), decoded to RGB, at `size`×`size` if given. */
async function faceImages(count: number, size?: number): Promise<{ name: string; image: RawImage; centred: boolean }[]> {
  const out: { name: string; image: RawImage; centred: boolean }[] = [];
  for (const { name, file, centred } of realFaces(count)) {
    let img = sharp(file).removeAlpha().toColourspace('srgb');
    if (size) img = img.resize(size, size, { fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    out.push({ name, image: { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) }, centred });
  }
  return out;
}

let ref: FaceApiReference;
let embedder: FaceRecNetEmbedder;
let landmarker: FaceApiLandmarker;

before(async () => {
  ref = await FaceApiReference.load('wasm');
  embedder = await FaceRecNetEmbedder.load();
  landmarker = await FaceApiLandmarker.load({ intraOpThreads: 1 });
});

after(async () => {
  await embedder?.close();
  await landmarker?.close();
  ref?.dispose();
});

async function checkDescriptor(t: TestContext, label: string, chip: RawImage): Promise<void> {
  const want = await ref.descriptor(chip);
  const got = await embedder.embed(chip);
  const diff = maxAbsDiff(got, want);
  const cos = cosine(got, want);
  t.diagnostic(`face-api descriptor ${label}: max|Δ| ${diff.toExponential(2)}, cosine ${cos.toFixed(7)}`);
  assert.ok(diff <= 1e-3, `${label}: max abs difference ${diff}`);
  assert.ok(cos >= 0.9999, `${label}: cosine ${cos}`);
}

test('FaceRecognitionNet on ONNX matches face-api on tfjs: synthetic RGB and grey chips', async (t) => {
  await checkDescriptor(t, 'synthetic rgb', syntheticImage(150, 150, 3, 7));
  await checkDescriptor(t, 'synthetic grey', syntheticImage(150, 150, 1, 11));
});

test('FaceRecognitionNet on ONNX matches face-api on tfjs: real faces', async (t) => {
  for (const { name, image } of await faceImages(4, 150)) await checkDescriptor(t, name, image);
});

test('embedBatch equals embed one by one', async () => {
  const chips = [syntheticImage(150, 150, 3, 3), syntheticImage(150, 150, 1, 4), syntheticImage(150, 150, 3, 5)];
  const batch = await embedder.embedBatch(chips);
  for (let i = 0; i < chips.length; i++) {
    const one = await embedder.embed(chips[i]!);
    assert.ok(maxAbsDiff(batch[i]!, one) <= 1e-5);
  }
});

test('embed rejects a chip of the wrong size', async () => {
  await assert.rejects(embedder.embed(syntheticImage(100, 150, 3)), /must be 150×150/);
});

async function checkLandmarks(t: TestContext, label: string, image: RawImage, box: Box): Promise<void> {
  const want = await ref.landmarks(image, box);
  const { raw } = await landmarker.detectRaw(image, box);
  const pts: Point[] = await landmarker.detect(image, box);
  assert.ok(want.raw);
  const rawDiff = maxAbsDiff(raw, want.raw);
  const side = Math.max(box.width, box.height);
  let ptDiff = 0;
  assert.equal(pts.length, 68);
  for (let i = 0; i < 68; i++) {
    ptDiff = Math.max(ptDiff, Math.abs(pts[i]!.x - want.points[i]!.x), Math.abs(pts[i]!.y - want.points[i]!.y));
  }
  t.diagnostic(`face-api landmarks ${label}: raw max|Δ| ${rawDiff.toExponential(2)}, points max|Δ| ${ptDiff.toExponential(2)} px (box side ${side})`);
  assert.ok(rawDiff <= 1e-3, `${label}: raw max abs difference ${rawDiff}`);
  assert.ok(ptDiff / side <= 1e-3, `${label}: landmark difference ${ptDiff} px on a ${side} px box`);
}

test('FaceLandmark68Net on ONNX matches face-api on tfjs: synthetic images, tall, wide and square boxes', async (t) => {
  const rgb = syntheticImage(220, 200, 3, 21);
  await checkLandmarks(t, 'rgb tall box', rgb, { x: 40, y: 20, width: 120, height: 150 });
  await checkLandmarks(t, 'rgb wide box', rgb, { x: 10, y: 30, width: 190, height: 120 });
  await checkLandmarks(t, 'rgb square 112', rgb, { x: 50, y: 50, width: 112, height: 112 });
  await checkLandmarks(t, 'rgb small box (upsampled)', rgb, { x: 60, y: 70, width: 48, height: 40 });
  await checkLandmarks(t, 'grey', syntheticImage(160, 190, 1, 5), { x: 12, y: 30, width: 130, height: 140 });
});

test('FaceLandmark68Net on ONNX matches face-api on tfjs: real faces', async (t) => {
  const detector = await BlazeFace.load({ intraOpThreads: 1 });
  try {
    for (const { name, image, centred } of await faceImages(4)) {
      // lfw-dev faces are centred in 250×250: a box like a detector's around the centre; elsewhere the detector's.
      const d = centred ? { x: 66, y: 62, width: 118, height: 130 } : (await detector.detect(image, { maxFaces: 1 }))[0]?.box;
      assert.ok(d, `no face in ${name}`);
      // The reference takes whole pixels inside the image.
      const x = Math.max(0, Math.round(d.x));
      const y = Math.max(0, Math.round(d.y));
      const box = { x, y, width: Math.min(image.width - x, Math.round(d.width)), height: Math.min(image.height - y, Math.round(d.height)) };
      await checkLandmarks(t, name, image, box);
    }
  } finally {
    await detector.close();
  }
});

test('the vision registry loads the face-api embedder and 68-point landmarker by id', async () => {
  const { loadEmbedder, loadLandmarker } = await import('../src/vision/registry.js');
  const e = await loadEmbedder('face-api', { intraOpThreads: 1 });
  const l = await loadLandmarker('68', { intraOpThreads: 1 });
  try {
    assert.equal(e.id, 'face-api');
    assert.equal(e.dim, 128);
    assert.deepEqual(e.chip, { size: 150, padding: 0.25 });
    assert.equal(l.count, 68);
    const d = await e.embed(syntheticImage(150, 150, 3, 9));
    assert.deepEqual(d, await embedder.embed(syntheticImage(150, 150, 3, 9)));
  } finally {
    await e.close();
    await l.close();
  }
});

test('concurrent embed and detect calls do not trample the shared input buffer', async () => {
  const chips = [1, 2, 3, 4].map((s) => syntheticImage(150, 150, s % 2 ? 3 : 1, s));
  const sequential: Float32Array[] = [];
  for (const c of chips) sequential.push(await embedder.embed(c));
  const concurrent = await Promise.all(chips.map((c) => embedder.embed(c)));
  concurrent.forEach((d, i) => {
    assert.deepEqual(d, sequential[i]);
  });

  const img = syntheticImage(200, 200, 3, 17);
  const boxes = [
    { x: 10, y: 10, width: 100, height: 120 },
    { x: 60, y: 40, width: 130, height: 110 },
  ];
  const one = [await landmarker.detect(img, boxes[0]!), await landmarker.detect(img, boxes[1]!)];
  assert.deepEqual(await Promise.all(boxes.map((b) => landmarker.detect(img, b))), one);
});
