import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VisionEngine } from '../src/auth/vision-engine.js';
import { DEFAULT_EVAL } from '../src/cli/commands/eval.js';
import type { Embedder } from '../src/embed/embedder.js';
import { probeEmbedding } from '../src/embed/probe.js';
import { scoringFor } from '../src/match/calibration.js';
import { dot, norm } from '../src/match/similarity.js';
import { modelsDir } from '../src/paths.js';
import { flipHorizontal } from '../src/vision/align.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline } from '../src/vision/pipeline.js';
import type { RawImage } from '../src/vision/types.js';
import { realFaces } from './helpers/fixtures.js';

/** A fake embedder: the embedding is the chip's first pixels, so a mirror image gives a different vector. */
function fake(batch: boolean): Embedder & { calls: number } {
  const e = {
    id: 'fake',
    dim: 4,
    modelSha256: 'x',
    chip: { size: 2, padding: 0 },
    calls: 0,
    embed(chip: RawImage): Promise<Float32Array> {
      e.calls++;
      return Promise.resolve(Float32Array.from(chip.data.subarray(0, 4)));
    },
    close: () => Promise.resolve(),
  };
  if (!batch) return e;
  return Object.assign(e, { embedBatch: (chips: readonly RawImage[]) => Promise.all(chips.map((c) => e.embed(c))) });
}

const chip: RawImage = { width: 2, height: 2, channels: 1, data: Uint8Array.from([3, 0, 0, 4]) };

test('probe embedding: unit length; with flip the mean direction of the chip and its mirror, batched or not', async () => {
  const plain = await probeEmbedding(fake(false), chip, false);
  assert.deepEqual(Array.from(plain), [0.6, 0, 0, 0.8].map(Math.fround));
  const mirror = flipHorizontal(chip);
  assert.deepEqual(Array.from(mirror.data.subarray(0, 4)), [0, 3, 4, 0]);
  const flipped = await probeEmbedding(fake(false), chip, true);
  const batched = await probeEmbedding(fake(true), chip, true);
  assert.deepEqual(batched, flipped);
  assert.ok(Math.abs(norm(flipped) - 1) < 1e-6);
  // Equal weight to the chip and its mirror: the mean points half-way between them.
  const a = Float32Array.from([0.6, 0, 0, 0.8]);
  const b = Float32Array.from([0, 0.6, 0.8, 0]);
  assert.ok(Math.abs(dot(flipped, a) - dot(flipped, b)) < 1e-6);
  assert.ok(dot(flipped, a) > 0.7);
});

test('probe embedding: a zero embedding is an error, never a vector of zeros that could be scored', async () => {
  const black: RawImage = { width: 2, height: 2, channels: 1, data: new Uint8Array(4) };
  await assert.rejects(probeEmbedding(fake(false), black, false), /zero or non-finite/);
  await assert.rejects(probeEmbedding(fake(true), black, true), /zero or non-finite/);
});

test('eval and calibration default to the probe settings the shipped calibration measured', () => {
  const scoring = scoringFor(DEFAULT_EVAL.model);
  assert.equal(scoring.landmarker, DEFAULT_EVAL.landmarker);
  assert.equal(scoring.flip_tta, DEFAULT_EVAL.flip);
});

const noModels = !fs.existsSync(path.join(modelsDir(), 'manifest.json')) && `models absent in ${modelsDir()}: run "npm run build:models"`;

test('the daemon (and facegate test) and eval (and calibration) make the same probe from the same image', { skip: noModels }, async () => {
  const image = await decodeFile(realFaces(1)[0]!.file);
  const engine = await VisionEngine.load({ intraOpThreads: 1 });
  const pipeline = await FacePipeline.load({
    embedders: [DEFAULT_EVAL.model],
    landmarker: DEFAULT_EVAL.landmarker,
    flipTTA: DEFAULT_EVAL.flip,
    intraOpThreads: 1,
  });
  try {
    const [found] = await engine.detect(image);
    assert.ok(found, 'the daemon found no face');
    const daemon = (await engine.embed(image, found)).get(DEFAULT_EVAL.model);
    const res = await pipeline.analyze(image, { maxFaces: 4 });
    const evalFace = res.faces.find((f) => f.box.x === found.box.x && f.box.y === found.box.y);
    assert.ok(evalFace, 'eval found a different face');
    const evaluated = evalFace.embeddings[DEFAULT_EVAL.model];
    assert.ok(daemon && evaluated);
    assert.equal(daemon.length, evaluated.length);
    let maxDiff = 0;
    for (let i = 0; i < daemon.length; i++) maxDiff = Math.max(maxDiff, Math.abs(daemon[i]! - evaluated[i]!));
    // Same models, same threads, same code: any difference beyond float noise means the paths have drifted.
    assert.ok(maxDiff <= 1e-6, `daemon and eval probes differ by up to ${maxDiff}`);
    assert.ok(Math.abs(norm(daemon) - 1) < 1e-5);
  } finally {
    await engine.close();
    await pipeline.close();
  }
});
