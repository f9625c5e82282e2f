import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedFalseAccepts, bestAccuracyThreshold, equalErrorRate, meanStd, operatingPoint, rocCurve, sortDescending } from '../src/eval/metrics.js';

/** Deterministic PRNG so the random cases are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('EER of a small hand-worked case', () => {
  // Accepting scores >= 0.6 gives FAR 1/5, FRR 1/4; >= 0.5 gives FAR 2/5, FRR 1/4. The segment between them
  // crosses FAR = FRR at FAR = 0.2 + (0.05 / 0.2) * 0.2 = 0.25.
  const e = equalErrorRate([0.9, 0.8, 0.7, 0.4], [0.6, 0.5, 0.3, 0.2, 0.1]);
  assert.ok(Math.abs(e.eer - 0.25) < 1e-12, `eer ${e.eer}`);
});

test('EER is 0 for separable scores and 1 for inverted ones', () => {
  assert.equal(equalErrorRate([0.9, 0.8], [0.1, 0.2, 0.3]).eer, 0);
  assert.equal(equalErrorRate([0.1, 0.2], [0.8, 0.9]).eer, 1);
});

test('EER of uniform distributions matches the analytic value', () => {
  // Genuine uniform on [0.5, 1.5], impostor uniform on [0, 1]: FAR(t) = 1 − t, FRR(t) = t − 0.5, equal at 0.25.
  const g = Array.from({ length: 2000 }, (_, i) => 0.5 + (i + 0.5) / 2000);
  const im = Array.from({ length: 3000 }, (_, i) => (i + 0.5) / 3000);
  const e = equalErrorRate(g, im);
  assert.ok(Math.abs(e.eer - 0.25) < 1e-3, `eer ${e.eer}`);
  assert.ok(Math.abs(e.threshold - 0.75) < 2e-3, `threshold ${e.threshold}`);
});

test('EER lies between the brute-force bounds on random scores with ties', () => {
  const r = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const g = Array.from({ length: 50 + trial * 7 }, () => Math.round((0.4 + r() * 0.6) * 50) / 50);
    const im = Array.from({ length: 80 + trial * 11 }, () => Math.round(r() * 0.7 * 50) / 50);
    const e = equalErrorRate(g, im);
    // For every threshold t (accept iff score > t): min(FAR, FRR) ≤ EER ≤ max(FAR, FRR).
    const cands = [-Infinity, ...new Set([...g, ...im])];
    let lo = 0;
    let hi = 1;
    for (const t of cands) {
      const far = im.filter((s) => s > t).length / im.length;
      const frr = g.filter((s) => !(s > t)).length / g.length;
      lo = Math.max(lo, Math.min(far, frr));
      hi = Math.min(hi, Math.max(far, frr));
    }
    assert.ok(e.eer >= lo - 1e-12 && e.eer <= hi + 1e-12, `trial ${trial}: ${lo} <= ${e.eer} <= ${hi}`);
  }
});

test('operating point equals the brute-force lowest threshold meeting the FAR', () => {
  const r = rng(11);
  for (let trial = 0; trial < 30; trial++) {
    const g = Array.from({ length: 40 + trial }, () => Math.round((0.3 + r() * 0.7) * 40) / 40);
    const im = Array.from({ length: 200 + trial * 37 }, () => Math.round(r() * 0.8 * 40) / 40);
    for (const far of [1e-1, 3e-2, 1e-2, 5e-3]) {
      const op = operatingPoint(sortDescending(g), sortDescending(im), far);
      // Brute force: every score is a candidate threshold; keep those with at most far·N impostors above.
      const limit = far * im.length;
      const feasible = [...g, ...im].filter((t) => im.filter((s) => s > t).length <= limit + 1e-9);
      if (Math.floor(limit + 1e-9) < 1) {
        assert.equal(op, null);
        continue;
      }
      const t = Math.min(...feasible);
      assert.ok(op, `trial ${trial} far ${far}`);
      assert.equal(op.threshold, t);
      assert.equal(op.trueAccepts, g.filter((s) => s > t).length);
      assert.equal(op.falseAccepts, im.filter((s) => s > t).length);
      assert.ok(op.falseAccepts <= limit);
      assert.ok(Math.abs(op.frr - (1 - op.tar)) < 1e-12);
    }
  }
});

test('a FAR is resolvable only with at least 1/FAR impostors', () => {
  const g = sortDescending([0.9]);
  assert.equal(operatingPoint(g, sortDescending(new Array(9999).fill(0)), 1e-4), null);
  const op = operatingPoint(g, sortDescending(Array.from({ length: 10000 }, (_, i) => i / 10000)), 1e-4);
  assert.ok(op);
  // k = 1: threshold is the second-highest impostor, one impostor above it.
  assert.equal(op.threshold, 9998 / 10000);
  assert.equal(op.falseAccepts, 1);
  for (const [far, n] of [
    [1e-3, 1000],
    [1e-4, 10000],
    [1e-5, 100000],
    [1e-2, 300],
  ] as const) {
    assert.equal(allowedFalseAccepts(far, n), Math.round(far * n * 1e6) / 1e6 >= 1 ? Math.floor(far * n + 1e-6) : 0);
  }
});

test('ties at the threshold are rejected', () => {
  // Impostors 0.5 ×3 and 0.1 ×97: at FAR 1e-2 (k = 1) the second-highest impostor is 0.5, so all 0.5s reject.
  const im = sortDescending([0.5, 0.5, 0.5, ...new Array(97).fill(0.1)]);
  const op = operatingPoint(sortDescending([0.5, 0.6]), im, 1e-2);
  assert.ok(op);
  assert.equal(op.threshold, 0.5);
  assert.equal(op.falseAccepts, 0);
  assert.equal(op.trueAccepts, 1);
});

test('ROC runs from (0,0) to (1,1), monotone, one point per distinct score', () => {
  const roc = rocCurve([0.9, 0.8, 0.8, 0.3], [0.8, 0.2, 0.1]);
  assert.deepEqual(
    roc.map((p) => [p.far, p.tar]),
    [
      [0, 0],
      [0, 0.25],
      [1 / 3, 0.75],
      [1 / 3, 1],
      [2 / 3, 1],
      [1, 1],
    ],
  );
  assert.equal(roc[0]!.threshold, Infinity);
  assert.equal(roc[1]!.threshold, 0.8);
  assert.equal(roc.at(-1)!.threshold, -Infinity);
});

test('faceless attempts score -Infinity: genuine ones fail, impostor ones never pass', () => {
  const op = operatingPoint(sortDescending([0.9, -Infinity]), sortDescending([...new Array(99).fill(0.2), -Infinity]), 1e-2);
  assert.ok(op);
  assert.equal(op.trueAccepts, 1);
  assert.equal(op.falseRejects, 1);
  assert.throws(() => sortDescending([NaN]), /NaN/);
});

test('best accuracy threshold on a hand-worked case', () => {
  // same: 0.9 0.7 0.4 ; different: 0.5 0.3 0.1. Best split accepts > 0.6 or > 0.35 (5/6 each); first (lowest) wins.
  const r = bestAccuracyThreshold([0.9, 0.7, 0.4, 0.5, 0.3, 0.1], [true, true, true, false, false, false]);
  assert.equal(r.accuracy, 5 / 6);
  assert.ok(Math.abs(r.threshold - 0.35) < 1e-12, `threshold ${r.threshold}`);
  const sep = bestAccuracyThreshold([0.2, 0.8], [false, true]);
  assert.equal(sep.accuracy, 1);
  assert.ok(sep.threshold > 0.2 && sep.threshold < 0.8);
});

test('mean and sample standard deviation', () => {
  const r = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(r.mean, 5);
  assert.ok(Math.abs(r.std - Math.sqrt(32 / 7)) < 1e-12);
});
