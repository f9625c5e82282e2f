// The attempt rule on synthetic score sequences, the binomial upper bound, the attempt protocol on a tiny
// synthetic gallery, and the calibration's combination of populations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptJudge, atLeastAsStrict, attemptMatches, attemptStatistic, type AttemptRule } from '../src/match/attempt-rule.js';
import { binomialCdf, upperBound } from '../src/eval/metrics.js';
import { attemptScores, summariseAttempts, windows } from '../src/eval/attempts.js';
import { enrolmentSplit, sequenceKey, type Dataset } from '../src/eval/dataset.js';
import { unlockScores } from '../src/eval/protocols.js';
import { combineThresholds, mergeCalibration, type CalibrationSource } from '../src/match/calibration.js';

const BEST2: AttemptRule = { kind: 'best-mean', frames: 2 };
const KOF2: AttemptRule = { kind: 'k-of', frames: 2 };
const ANY: AttemptRule = { kind: 'k-of', frames: 1 };

test('best-mean 2: one lucky frame is not enough, two good frames are', () => {
  assert.equal(attemptMatches([0.5, 0.99, 0.5, 0.5], BEST2, 0.9), false);
  assert.equal(attemptMatches([0.5, 0.99, 0.5, 0.5], ANY, 0.9), true);
  assert.equal(attemptMatches([0.5, 0.95, 0.5, 0.92], BEST2, 0.9), true);
  // The two best need not be consecutive, and their mean counts: 0.99 and 0.82 average 0.905 > 0.9.
  assert.equal(attemptMatches([0.99, 0.1, 0.82], BEST2, 0.9), true);
  assert.equal(attemptMatches([0.99, 0.1, 0.8], BEST2, 0.9), false);
  // Strictly greater: a mean equal to the threshold is rejected.
  assert.equal(attemptMatches([0.9, 0.9], BEST2, 0.9), false);
});

test('k-of 2 needs two frames above the threshold; frames without a face are skipped', () => {
  assert.equal(attemptMatches([0.99, 0.89, 0.99], KOF2, 0.9), true);
  assert.equal(attemptMatches([0.99, 0.89, 0.89], KOF2, 0.9), false);
  assert.equal(attemptMatches([0.99, -Infinity, 0.91], KOF2, 0.9), true);
  assert.equal(attemptMatches([-Infinity, -Infinity], ANY, 0.9), false);
  assert.equal(attemptMatches([], BEST2, -1), false, 'no frame, no match even at the lowest threshold');
});

test('the judge answers at the first frame that satisfies the rule and stays satisfied', () => {
  const j = new AttemptJudge(BEST2, 0.9);
  assert.deepEqual(
    [0.8, 0.95, 0.7, 0.9, 0.2, 0.1].map((s) => j.push(s)),
    [false, false, false, true, true, true],
  );
  assert.equal(j.frames, 6);
  assert.throws(() => j.push(NaN), /NaN/);
  assert.throws(() => new AttemptJudge({ kind: 'best-mean', frames: 0 }, 0.5), /integer in \[1, 100\]/);
});

/** Deterministic PRNG so the random sequences are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('monotone: a higher threshold never accepts more; more frames never accept less; the statistic agrees', () => {
  const r = rng(7);
  const rules: AttemptRule[] = [BEST2, KOF2, ANY, { kind: 'best-mean', frames: 3 }, { kind: 'k-of', frames: 3 }];
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(r() * 12);
    const seq = Array.from({ length: n }, () => 0.8 + 0.2 * r());
    for (const rule of rules) {
      const stat = attemptStatistic(seq, rule);
      let prev = true;
      for (let t = 0.8; t <= 1.0001; t += 0.01) {
        const ok = attemptMatches(seq, rule, t);
        assert.ok(!ok || prev, `accepts at ${t} but not at a lower threshold`);
        assert.equal(ok, stat > t, 'statistic > t iff the rule accepts');
        prev = ok;
      }
      const t = 0.9;
      for (let k = 1; k < n; k++) {
        if (attemptMatches(seq.slice(0, k), rule, t)) assert.ok(attemptMatches(seq, rule, t), 'a prefix match is kept');
      }
    }
  }
});

test('strictness order of rules: a threshold calibrated for one stays safe for a stricter one', () => {
  assert.ok(atLeastAsStrict(KOF2, BEST2));
  assert.ok(atLeastAsStrict({ kind: 'best-mean', frames: 3 }, BEST2));
  assert.ok(!atLeastAsStrict(ANY, BEST2));
  assert.ok(!atLeastAsStrict(BEST2, KOF2));
  // Checked against sequences: whenever the stricter rule accepts, the looser one does too.
  const r = rng(3);
  for (let i = 0; i < 500; i++) {
    const seq = Array.from({ length: 1 + Math.floor(r() * 8) }, () => r());
    if (attemptMatches(seq, KOF2, 0.5)) assert.ok(attemptMatches(seq, BEST2, 0.5));
  }
});

test('binomial CDF and the one-sided 95 % upper bound', () => {
  assert.ok(Math.abs(binomialCdf(1, 3, 0.5) - 0.5) < 1e-12);
  assert.ok(Math.abs(binomialCdf(0, 10, 0.1) - 0.9 ** 10) < 1e-12);
  assert.equal(binomialCdf(5, 5, 0.3), 1);
  // Zero errors: exactly 1 − 0.05^(1/n), close to the rule of three.
  assert.ok(Math.abs(upperBound(0, 100) - (1 - 0.05 ** 0.01)) < 1e-12);
  assert.ok(Math.abs(upperBound(0, 30000) - 3 / 30000) / (3 / 30000) < 0.01);
  // One error in 10: the p where P(X ≤ 1) = 0.05 (tabulated Clopper–Pearson one-sided bound 0.3942).
  const u = upperBound(1, 10);
  assert.ok(Math.abs(binomialCdf(1, 10, u) - 0.05) < 1e-9);
  assert.ok(Math.abs(u - 0.3942) < 1e-3, `bound ${u}`);
  assert.equal(upperBound(4, 4), 1);
  assert.ok(Number.isNaN(upperBound(0, 0)));
  assert.throws(() => upperBound(5, 4), /bad error count/);
  assert.ok(upperBound(2, 1000) > upperBound(1, 1000) && upperBound(1, 1000) > upperBound(0, 1000));
});

test('windows cut groups into consecutive attempts, a short group is one attempt', () => {
  assert.deepEqual(windows([1, 2, 3, 4, 5], 2), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(windows([1, 2, 3], 120), [[1, 2, 3]]);
  assert.deepEqual(windows([], 5), []);
  assert.throws(() => windows([1], 0), /positive integer/);
});

/**
 * People whose images are unit vectors at an angle: person k at 30°·k. With `seqs`, each person's images are
 * in recordings named sA-0001…; the second recording of person 0 is turned 4° away (another session).
 */
function synthetic(people: number, perSeq: number, seqs: number): { ds: Dataset; vec: Float32Array[] } {
  const images: Dataset['images'][number][] = [];
  const identities: { name: string; images: number[] }[] = [];
  const vec: Float32Array[] = [];
  for (let k = 0; k < people; k++) {
    const idx: number[] = [];
    for (let s = 0; s < seqs; s++) {
      for (let f = 0; f < perSeq; f++) {
        idx.push(images.length);
        const rel = `${k}/s${s}-${String(f).padStart(4, '0')}.jpg`;
        images.push({ path: `/x/${rel}`, rel, identity: k });
        const a = ((30 * k + (s > 0 ? 4 : 0) + 0.1 * f) * Math.PI) / 180;
        vec.push(Float32Array.from([Math.cos(a), Math.sin(a)]));
      }
    }
    identities.push({ name: String(k), images: idx });
  }
  return { ds: { root: '/x', identities, images }, vec };
}

test('sequence keys and the enrolment split', () => {
  assert.equal(sequenceKey('0007/s01p00g01-0012.jpg'), 's01p00g01');
  assert.equal(sequenceKey('Aaron/Aaron_0001.jpg'), 'Aaron_0001');
  const { ds } = synthetic(2, 6, 3);
  const plain = enrolmentSplit(ds, 0, 5, false);
  assert.deepEqual(plain.gallery, [0, 1, 2, 3, 4]);
  assert.deepEqual(plain.probes, [[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]]);
  const bySeq = enrolmentSplit(ds, 0, 5, true);
  assert.deepEqual(bySeq.gallery, [0, 1, 2, 3, 4]);
  assert.deepEqual(
    bySeq.probes,
    [
      [6, 7, 8, 9, 10, 11],
      [12, 13, 14, 15, 16, 17],
    ],
    'the rest of the enrolment recording is not a probe',
  );
  // One recording: no genuine probe at all.
  assert.deepEqual(enrolmentSplit(synthetic(1, 8, 1).ds, 0, 5, true).probes, []);
  // The unlock protocol follows the same split.
  const u = unlockScores(ds, synthetic(2, 6, 3).vec, { aggregation: 'mean', gallery: 5, sequences: true });
  assert.equal(u.genuine.length, 2 * 12);
  assert.equal(u.impostor.length, 2 * 18);
});

test('attempt protocol on a tiny synthetic gallery: counts, caps, and the rule at a threshold', () => {
  const { ds, vec } = synthetic(3, 6, 3);
  const sets = attemptScores(ds, vec, { aggregation: 'mean', gallery: 5, sequences: true, frames: 4 });
  // Genuine: 2 other recordings of 6 frames → one window of 4 each, per person. Impostor: 3 recordings of the
  // other 2 people → 6 windows per gallery.
  assert.equal(sets.genuine.length, 3 * 2);
  assert.equal(sets.impostor.length, 3 * 6);
  assert.equal(sets.genuineFramesMax, 4);
  const capped = attemptScores(ds, vec, { aggregation: 'mean', gallery: 5, sequences: true, frames: 120 });
  assert.equal(capped.genuineFramesMax, 6, 'W is capped by what a recording holds');
  assert.equal(capped.impostorFramesMax, 6);
  // Same person 4° away scores cos(4°) ≈ 0.9976; the nearest other person is 26°+ away (cos < 0.9).
  const ok = summariseAttempts(sets, BEST2, 0.99);
  assert.equal(ok.false_rejects, 0);
  assert.equal(ok.false_accepts, 0);
  assert.equal(ok.far, 0);
  assert.ok(Math.abs(ok.far_upper95 - (1 - 0.05 ** (1 / 18))) < 1e-12);
  const strict = summariseAttempts(sets, BEST2, 0.9999);
  assert.equal(strict.frr, 1, 'a threshold above every genuine score rejects every attempt');
  const lax = summariseAttempts(sets, BEST2, 0.4);
  assert.equal(lax.far, 1, 'people at most 64° apart (cos > 0.43) all pass a threshold of 0.4');
  // Without sequences: the 13 probes of each person are one attempt (capped), impostors one per other person.
  const plain = attemptScores(ds, vec, { aggregation: 'mean', gallery: 5, frames: 120 });
  assert.deepEqual([plain.genuine.length, plain.impostor.length, plain.genuineFramesMax, plain.impostorFramesMax], [3, 6, 13, 18]);
});

test('calibration: a population that cannot resolve a FAR still bounds it from below, pairs included', () => {
  const src = (thresholds: Record<string, number>, pairs?: Record<string, number>): CalibrationSource => ({
    protocol: 'unlock',
    genuine: 1,
    impostor: 1,
    thresholds,
    ...(pairs ? { pairs_thresholds: pairs } : {}),
    command: 'x',
  });
  const big = src({ '1e-3': 0.93, '1e-4': 0.94 });
  const small = src({ '1e-3': 0.955 }, { '1e-3': 0.958, '1e-4': 0.962 });
  assert.deepEqual(combineThresholds([big]), { '1e-3': 0.93, '1e-4': 0.94 });
  assert.deepEqual(combineThresholds([big, small]), { '1e-3': 0.958, '1e-4': 0.962 });
  // Only FARs some source resolves by its unlock protocol appear.
  assert.deepEqual(Object.keys(combineThresholds([src({ '1e-2': 0.9 })])), ['1e-2']);
  const t = mergeCalibration(null, 'm', null, { aggregation: 'mean', gallery: 5 }, 'a', big, BEST2);
  assert.deepEqual(t.attempt_rule, BEST2);
  assert.throws(() => mergeCalibration(t, 'm', null, { aggregation: 'mean', gallery: 5 }, 'b', small, ANY), /attempt rule/);
});
