/**
 * Parity of every converted Human model with TensorFlow.js itself (CPU backend): the same real face image and
 * the same deterministic synthetic input go through both; outputs must agree to 1e-3 and the faceres
 * descriptor to cosine 0.9999. The embedder is also checked end to end against the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { modelsDir } from '../src/paths.js';
import { HUMAN_PKG } from '../src/models/sources.js';
import { LoadedModel } from '../src/models/session.js';
import { loadSources } from '../src/models/build/fetch.js';
import { convertTfjsGraph } from '../src/models/tfjs/convert.js';
import { parseModelJson } from '../src/models/tfjs/modeljson.js';
import { HUMAN_MODELS, type HumanModel } from '../src/models/tfjs/human.js';
import { FaceresEmbedder, FACERES_DESCRIPTOR, FACERES_SIZE } from '../src/embed/faceres.js';
import { loadReference, runReference } from './helpers/tfjs-reference.js';
import { realFaces } from './helpers/fixtures.js';
import type { RawImage } from '../src/vision/types.js';

const TOL = 1e-3;
const MIN_COSINE = 0.9999;

const cacheDir = path.join(os.tmpdir(), 'facegate-test-cache');
const sources = loadSources(HUMAN_PKG, cacheDir);
const read = (p: string): Uint8Array => {
  const d = sources[p];
  if (!d) throw new Error(`missing ${p}`);
  return d;
};

/** Pixel scale Human feeds each model: faceres wants 0..255, the rest 0..1. */
const SCALE: Record<HumanModel, number> = { faceres: 1, antispoof: 1 / 255, liveness: 1 / 255, facemesh: 1 / 255, iris: 1 / 255 };

function inputSize(model: HumanModel): number {
  const m = parseModelJson(read(`${model}.json`));
  const ph = m.nodes.find((n) => n.op === 'Placeholder');
  const dims = (ph!.attr.shape!.shape as { dim: { size: string }[] }).dim.map((d) => Number(d.size));
  assert.equal(dims[1], dims[2]);
  return dims[1] as number;
}

/** Deterministic 8-bit RGB image: gradients, a blob and LCG noise, so every layer sees varied input. */
function synthetic(size: number, seed = 7): RawImage {
  const data = new Uint8Array(size * size * 3);
  let s = seed >>> 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const blob = 90 * Math.exp(-((x - size * 0.4) ** 2 + (y - size * 0.45) ** 2) / (0.03 * size * size));
        const v = ((x * (1 + c)) / size) * 100 + (y / size) * 70 + blob + (s >>> 24) * 0.2;
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** A real face (lfw-dev, else test/fixtures): the centre 150 px (lfw-dev's face; most of a fixture's) resized to `size`. */
async function realFace(size: number): Promise<RawImage> {
  const [face] = realFaces(1);
  const meta = await sharp(face!.file).metadata();
  const { data, info } = await sharp(face!.file)
    .removeAlpha()
    .extract({ left: Math.round(((meta.width ?? 250) - 150) / 2), top: Math.round(((meta.height ?? 250) - 150) / 2), width: 150, height: 150 })
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

function toFloat(img: RawImage, scale: number): Float32Array {
  return Float32Array.from(img.data, (v) => v * scale);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] as number) * (b[i] as number);
    aa += (a[i] as number) ** 2;
    bb += (b[i] as number) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

for (const model of HUMAN_MODELS) {
  test(`human-${model}: ONNX matches TensorFlow.js`, async (t) => {
    const json = read(`${model}.json`);
    const converted = convertTfjsGraph(json, read, { name: model });
    const session = await LoadedModel.fromBytes(model, converted.onnx);
    const reference = await loadReference(json, read);
    const sig = parseModelJson(json).outputs;
    const keys = converted.outputs.map((o) => o.name);
    const refNames = keys.map((k) => (sig.get(k)?.name ?? k).replace(/:0$/, ''));
    const size = inputSize(model);
    const inputName = converted.inputs[0]?.name as string;

    const check = async (what: string, img: RawImage): Promise<void> => {
      const x = toFloat(img, SCALE[model]);
      const shape = [1, size, size, 3];
      const ref = await runReference(reference, x, shape, refNames);
      const out = await session.run({ [inputName]: { data: x, dims: shape } });
      keys.forEach((k, i) => {
        const a = ref[i] as Float32Array;
        const b = out[k]?.data as Float32Array;
        const d = maxAbsDiff(a, b);
        t.diagnostic(`${what} ${k}: max abs diff ${d.toExponential(2)}`);
        assert.ok(d <= TOL, `${model} ${what} ${k}: max abs diff ${d} > ${TOL}`);
        if (model === 'faceres' && k === FACERES_DESCRIPTOR) {
          const c = cosine(a, b);
          t.diagnostic(`${what} descriptor cosine ${c.toFixed(7)}`);
          assert.ok(c >= MIN_COSINE, `faceres ${what} descriptor cosine ${c} < ${MIN_COSINE}`);
        }
      });
    };
    try {
      await check('synthetic', synthetic(size));
      await check('real face', await realFace(size));
    } finally {
      reference.dispose();
      await session.release();
    }
  });
}

const faceresBuilt = fs.existsSync(path.join(modelsDir(), 'human-faceres.onnx'));

test('faceres embedder: descriptor matches TensorFlow.js; grey chips work; bad chips are refused', {
  skip: !faceresBuilt && 'models/human-faceres.onnx not built: run npm run build:models',
}, async () => {
  const emb = await FaceresEmbedder.load({ intraOpThreads: 1 });
  const reference = await loadReference(read('faceres.json'), read);
  try {
    assert.equal(emb.id, 'faceres');
    assert.equal(emb.dim, 1024);
    assert.equal(emb.chip.size, FACERES_SIZE);
    const chip = await realFace(FACERES_SIZE);
    const [ref] = await runReference(reference, toFloat(chip, 1), [1, FACERES_SIZE, FACERES_SIZE, 3], [FACERES_DESCRIPTOR]);
    const ours = await emb.embed(chip);
    assert.equal(ours.length, 1024);
    assert.ok(cosine(ours, ref as Float32Array) >= MIN_COSINE);
    assert.ok(maxAbsDiff(ours, ref as Float32Array) <= TOL);

    // A grey chip equals the RGB chip with the grey value in all three channels.
    const n = FACERES_SIZE * FACERES_SIZE;
    const grey = new Uint8Array(n);
    const rgb = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) {
      const v = Math.round(0.299 * (chip.data[3 * i] as number) + 0.587 * (chip.data[3 * i + 1] as number) + 0.114 * (chip.data[3 * i + 2] as number));
      grey[i] = v;
      rgb.fill(v, 3 * i, 3 * i + 3);
    }
    const g = await emb.embed({ width: FACERES_SIZE, height: FACERES_SIZE, channels: 1, data: grey });
    const c = await emb.embed({ width: FACERES_SIZE, height: FACERES_SIZE, channels: 3, data: rgb });
    assert.ok(maxAbsDiff(g, c) <= 1e-5);
    // Different faces give different descriptors (guards against a constant output).
    const other = await emb.embed(synthetic(FACERES_SIZE, 11));
    assert.ok(cosine(ours, other) < 0.99, `descriptor barely depends on the image: cosine ${cosine(ours, other)}`);

    // Concurrent calls share one input buffer; each must still get its own image's descriptor.
    const [p, q] = await Promise.all([emb.embed(chip), emb.embed(synthetic(FACERES_SIZE, 11))]);
    assert.ok(maxAbsDiff(p, ours) <= 1e-5);
    assert.ok(cosine(p, q) < 0.999);

    const batch = await emb.embedBatch([chip, synthetic(FACERES_SIZE, 11)]);
    assert.ok(maxAbsDiff(batch[0] as Float32Array, ours) <= 1e-4);
    assert.ok(maxAbsDiff(batch[1] as Float32Array, q) <= 1e-4);

    await assert.rejects(emb.embed({ width: 100, height: 100, channels: 3, data: new Uint8Array(30000) }), /224×224/);
    await assert.rejects(emb.embed({ width: FACERES_SIZE, height: FACERES_SIZE, channels: 3, data: new Uint8Array(10) }), /expected/);
  } finally {
    reference.dispose();
    await emb.close();
  }
  await assert.rejects(emb.embed(synthetic(FACERES_SIZE)), /closed/);
});
