import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logisticToOnnx, scoreLogistic, trainLogistic } from '../src/liveness/pad-classifier.js';
import type { FrameFeatures, PadFrame } from '../src/liveness/pad-dataset.js';
import { padFrameMetrics, thresholdAtBpcer, trainOnFrames } from '../src/liveness/pad-eval.js';
import { PAD_FEATURES, padFeatures } from '../src/liveness/pad-features.js';
import { defaultPadCalibrationPath, defaultPadModelPath, PadModel } from '../src/liveness/pad-model.js';
import { buildPadArtifacts, padCalibrationText } from '../src/liveness/pad-train.js';
import { blurAndQuantise, greyOf, noisyFrame, prng, syntheticFace } from './helpers/pad-synthetic.js';

/**
 * A small synthetic PAD set: 4 subjects × 6 frames, live = sharp noisy texture, print = the same blurred and re-quantised.
 * Built once; every test below reuses it.
 */
const synthetic = (() => {
  const frames: PadFrame[] = [];
  const features: FrameFeatures[] = [];
  let seed = 10;
  for (const subject of ['s1', 's2', 's3', 's4']) {
    for (const cls of ['live', 'print']) {
      for (let i = 0; i < 6; i++) {
        const sharp = noisyFrame(seed++, 40 + 8 * i, 200, 160);
        const img = cls === 'live' ? sharp : blurAndQuantise(sharp, 20 + i);
        frames.push({ path: `/x/${cls}/${subject}/q-${i}.jpg`, rel: `${cls}/${subject}/q-${i}.jpg`, cls, attack: cls !== 'live', subject, sequence: 'q' });
        features.push(padFeatures(syntheticFace(img)));
      }
    }
  }
  return { frames, features };
})();

test('logistic regression separates a separable set and is exact in float32 against ONNX Runtime', async () => {
  const model = trainOnFrames(synthetic.frames, synthetic.features, () => true, 0.01);
  const live = synthetic.features.filter((_, i) => !synthetic.frames[i]!.attack).map((x) => scoreLogistic(model, x!));
  const prints = synthetic.features.filter((_, i) => synthetic.frames[i]!.attack).map((x) => scoreLogistic(model, x!));
  assert.ok(Math.min(...live) > Math.max(...prints), 'training set separated');

  const pad = await PadModel.fromBytes(logisticToOnnx(model), { threshold: 0.5 });
  try {
    for (const seed of [100, 101]) {
      for (const img of [noisyFrame(seed, 50, 200, 160), blurAndQuantise(noisyFrame(seed, 50, 200, 160), 16)]) {
        const face = syntheticFace(img);
        const ts = scoreLogistic(model, padFeatures(face));
        const onnx = await pad.score(face);
        assert.ok(Math.abs(ts - onnx) < 1e-5, `TS ${ts} vs ONNX ${onnx}`);
      }
    }
    // Unseen sharp texture scores as more live than its print-like copy.
    const a = await pad.score(syntheticFace(noisyFrame(200, 50, 200, 160)));
    const b = await pad.score(syntheticFace(blurAndQuantise(noisyFrame(200, 50, 200, 160), 16)));
    assert.ok(a > b, `sharp ${a} vs print-like ${b}`);
    // Grey frames are scored without error.
    const g = await pad.score(syntheticFace(greyOf(noisyFrame(201, 50, 200, 160))));
    assert.ok(g >= 0 && g <= 1);
  } finally {
    await pad.close();
  }
});

test('Newton fit: a heavier ridge shrinks the weights', () => {
  const rnd = prng(7);
  const n = 200;
  const dim = 3;
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < dim; j++) x[i * dim + j] = rnd() + (j === 0 ? y[i]! * 0.5 : 0);
  }
  const loose = trainLogistic({ x, dim, y }, { lambda: 1e-4 });
  const tight = trainLogistic({ x, dim, y }, { lambda: 10 });
  assert.ok(loose.weights[0]! > 0, 'the informative feature gets a positive weight');
  assert.ok(Math.abs(tight.weights[0]!) < Math.abs(loose.weights[0]!));
  assert.throws(() => trainLogistic({ x, dim, y: new Uint8Array(n) }, { lambda: 1 }), /both live and attack/);
});

test('training artefacts are deterministic: the same features give byte-identical model and calibration', () => {
  const a = buildPadArtifacts(synthetic.frames, synthetic.features, { config: PAD_FEATURES, datasetName: 'synthetic', lambda: 0.01 });
  const b = buildPadArtifacts(
    synthetic.frames,
    synthetic.features.map((f) => (f ? Float32Array.from(f) : f)),
    { config: PAD_FEATURES, datasetName: 'synthetic', lambda: 0.01 },
  );
  assert.deepEqual(Buffer.from(a.onnx), Buffer.from(b.onnx));
  assert.equal(padCalibrationText(a), padCalibrationText(b));
  // Four folds, each scored only by the model that left that subject out.
  assert.deepEqual(
    a.calibration.loso.folds.map((f) => f.subject),
    ['s1', 's2', 's3', 's4'],
  );
  assert.ok(a.calibration.threshold > 0 && a.calibration.threshold < 1);
});

test('per-frame figures: BPCER, APCER per type, EER and APCER at fixed BPCER', () => {
  const live = [0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3];
  const frames = [
    ...live.map((score) => ({ attackType: null, score })),
    ...[0.1, 0.2, 0.5, 0.65].map((score) => ({ attackType: 'print', score })),
    ...[0.05, 0.1].map((score) => ({ attackType: 'screen', score })),
  ];
  const m = padFrameMetrics(frames, 0.5);
  assert.equal(m.bpcer, 0.5); // 0.5, 0.45, … 0.3 are not > 0.5
  assert.deepEqual(m.apcer, { print: 0.25, screen: 0 });
  assert.ok(m.eer > 0 && m.eer < 0.5);
  // BPCER 1 % of 10 live frames allows none to be rejected: the threshold falls below the lowest live score.
  assert.equal(thresholdAtBpcer(live, 0.01), -Infinity);
  assert.equal(m.apcer_at_bpcer['0.01'], 1);
  assert.equal(thresholdAtBpcer(live, 0.1), 0.3);
  assert.equal(thresholdAtBpcer([0.3, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97], 0.1), -Infinity, 'ties never push BPCER past the target');
  assert.deepEqual(Object.keys(m).sort(), ['apcer', 'apcer_at_bpcer', 'bpcer', 'eer']);
});

const shipped = fs.existsSync(defaultPadModelPath()) && fs.existsSync(defaultPadCalibrationPath());

test('load checks the model file against calibration/pad.json', {
  skip: !shipped && 'trained/pad.onnx or calibration/pad.json absent (npm run train:pad)',
}, async () => {
  const model = await PadModel.load({ intraOpThreads: 1 });
  try {
    assert.match(model.sha256, /^[0-9a-f]{64}$/);
    assert.ok(model.threshold > 0 && model.threshold < 1);
    const s = await model.score(syntheticFace(greyOf(noisyFrame(5, 40))));
    assert.ok(s >= 0 && s <= 1);
  } finally {
    await model.close();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pad-'));
  try {
    const other = path.join(dir, 'other.onnx');
    const bytes = fs.readFileSync(defaultPadModelPath());
    // A model that differs in one weight is not the calibrated one.
    const changed = Buffer.from(bytes);
    changed[changed.length - 10]! ^= 1;
    fs.writeFileSync(other, changed);
    await assert.rejects(PadModel.load({ path: other }), /not the model calibration/);
    const cal = JSON.parse(fs.readFileSync(defaultPadCalibrationPath(), 'utf8')) as Record<string, unknown>;
    const badCal = path.join(dir, 'pad.json');
    fs.writeFileSync(badCal, JSON.stringify({ ...cal, model_sha256: 'a'.repeat(64) }));
    await assert.rejects(PadModel.load({ calibration: badCal }), /not the model calibration/);
    fs.writeFileSync(badCal, JSON.stringify({ ...cal, features: { ...PAD_FEATURES, size: 32 } }));
    await assert.rejects(PadModel.load({ calibration: badCal }), /other features/);
    fs.writeFileSync(badCal, JSON.stringify({ ...cal, threshold: 'high' }));
    await assert.rejects(PadModel.load({ calibration: badCal }), /threshold/);
    await assert.rejects(PadModel.load({ calibration: path.join(dir, 'absent.json') }), /no PAD calibration/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
