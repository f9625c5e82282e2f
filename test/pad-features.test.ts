import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colourPlanes, LBP_BINS, lbpHistogram, PAD_FEATURES, padCrop, padFeatureDim, padFeatures, padFeaturesFromCrop } from '../src/liveness/pad-features.js';
import { blurAndQuantise, greyOf, noisyFrame, syntheticFace } from './helpers/pad-synthetic.js';

/** Share of pixels whose LBP pattern is non-uniform (the last bin): fine, irregular texture makes many. */
function nonUniformShare(features: Float32Array, block: number): number {
  const v = features[block * LBP_BINS + LBP_BINS - 1]!;
  return PAD_FEATURES.sqrt ? v * v : v;
}

test('each plane histogram is a distribution over the 59 uniform-LBP bins', () => {
  const f = padFeatures(syntheticFace(noisyFrame(1, 40)));
  assert.equal(f.length, padFeatureDim());
  for (let b = 0; b < f.length / LBP_BINS; b++) {
    let s = 0;
    for (let k = 0; k < LBP_BINS; k++) {
      const v = f[b * LBP_BINS + k]!;
      assert.ok(v >= 0);
      s += PAD_FEATURES.sqrt ? v * v : v;
    }
    assert.ok(Math.abs(s - 1) < 1e-5, `block ${b} sums to ${s}`);
  }
});

test('a print-like copy (blurred, re-quantised) loses the irregular micro-texture the features measure', () => {
  const sharp = noisyFrame(2, 60);
  const printed = blurAndQuantise(sharp, 24);
  const fs = padFeatures(syntheticFace(sharp));
  const fp = padFeatures(syntheticFace(printed));
  // Luma (plane 0) and value (plane 5): far fewer non-uniform patterns once the fine texture is smoothed away.
  for (const block of [0, PAD_FEATURES.planes.indexOf('V')]) {
    const a = nonUniformShare(fs, block);
    const b = nonUniformShare(fp, block);
    assert.ok(a > 1.2 * b, `plane ${block}: sharp ${a.toFixed(3)} vs print-like ${b.toFixed(3)}`);
  }
  assert.notDeepEqual(Array.from(fs), Array.from(fp));
});

test('a flat plane puts every pixel in one uniform bin', () => {
  const plane = new Uint8Array(16 * 16).fill(77);
  const h = new Float64Array(LBP_BINS);
  lbpHistogram(plane, 16, 16, 1, h, 0);
  assert.equal(h.filter((v) => v === 1).length, 1);
  assert.equal(
    h.reduce((a, b) => a + b, 0),
    1,
  );
});

test('colour planes: grey pixels have neutral chroma and no saturation', () => {
  const crop = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.from([100, 100, 100, 255, 0, 0]) };
  const p = colourPlanes(crop, ['Y', 'Cb', 'Cr', 'H', 'S', 'V']);
  assert.deepEqual([p.get('Y')![0], p.get('Cb')![0], p.get('Cr')![0], p.get('S')![0], p.get('V')![0]], [100, 128, 128, 0, 100]);
  // Pure red: full saturation, Cr at its top, hue 0.
  assert.deepEqual([p.get('Cr')![1], p.get('S')![1], p.get('H')![1], p.get('V')![1]], [255, 255, 0, 255]);
});

test('grey (IR) frames are accepted: scored on the replicated channel', () => {
  const rgb = noisyFrame(3, 40);
  const grey = greyOf(rgb);
  const f = padFeatures(syntheticFace(grey));
  assert.equal(f.length, padFeatureDim());
  assert.ok(f.every(Number.isFinite));
  const crop = padCrop(syntheticFace(grey));
  assert.equal(crop.channels, 3);
  for (let i = 0; i < crop.data.length; i += 3) assert.ok(crop.data[i] === crop.data[i + 1] && crop.data[i] === crop.data[i + 2]);
});

test('the crop follows the face: aligned on landmarks, or a square about the box without them', () => {
  const img = noisyFrame(4, 40);
  const face = syntheticFace(img);
  const withLm = padCrop(face);
  const boxOnly = padCrop({ ...face, landmarks: [] });
  assert.equal(withLm.width, PAD_FEATURES.size);
  assert.equal(boxOnly.width, PAD_FEATURES.size);
  assert.ok(padFeaturesFromCrop(boxOnly).every(Number.isFinite));
  assert.throws(() => padCrop({ ...face, landmarks: [], box: { x: 0, y: 0, width: 0, height: 10 } }), /box/);
  assert.throws(() => padCrop({ ...face, image: { ...img, data: img.data.subarray(10) } }), /size/);
});
