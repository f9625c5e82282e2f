import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { datasetsDir } from '../src/paths.js';
import { FaceApiReference } from '../src/models/faceapi/reference.js';
import { FaceRecNetEmbedder } from '../src/embed/facerecnet.js';
import type { RawImage } from '../src/vision/types.js';

/** Deterministic 8-bit image: smooth gradients, a few blobs and LCG noise, so every layer sees varied input. */
export function syntheticImage(width: number, height: number, channels: 1 | 3, seed = 1): RawImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const blob = 80 * Math.exp(-(((x - width * 0.35) ** 2 + (y - height * 0.4) ** 2) / (0.02 * width * height)));
        const v = (x * (1 + c) * 255) / width * 0.4 + (y * 255) / height * 0.3 + blob + (s >>> 24) * 0.15;
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
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

const lfwDir = path.join(datasetsDir(), 'lfw-dev');
const haveLfw = fs.existsSync(lfwDir);

/** The first image of the first few identities (sorted), decoded to RGB at `size`×`size`. */
async function lfwImages(count: number, size?: number): Promise<{ name: string; image: RawImage }[]> {
  const people = fs.readdirSync(lfwDir).sort().slice(0, count);
  const out: { name: string; image: RawImage }[] = [];
  for (const p of people) {
    const file = fs.readdirSync(path.join(lfwDir, p)).sort()[0]!;
    let img = sharp(path.join(lfwDir, p, file)).removeAlpha().toColourspace('srgb');
    if (size) img = img.resize(size, size, { fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    out.push({ name: file, image: { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) } });
  }
  return out;
}

let ref: FaceApiReference;
let embedder: FaceRecNetEmbedder;

before(async () => {
  ref = await FaceApiReference.load('wasm');
  embedder = await FaceRecNetEmbedder.load();
});

after(async () => {
  await embedder?.close();
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

test('FaceRecognitionNet on ONNX matches face-api on tfjs: lfw-dev faces', { skip: !haveLfw && `datasets absent: ${lfwDir}` }, async (t) => {
  for (const { name, image } of await lfwImages(4, 150)) await checkDescriptor(t, name, image);
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
