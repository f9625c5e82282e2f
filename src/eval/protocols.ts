import { TemplateSet, type AggregationOptions } from '../match/templates.js';
import { dot } from '../match/similarity.js';
import { enrolmentSplit, type Dataset } from './dataset.js';
import type { LfwPairs } from './lfw-pairs.js';
import {
  FAR_TARGETS,
  PAIRS_FARS,
  UNLOCK_FARS,
  bestAccuracyThreshold,
  equalErrorRate,
  meanStd,
  operatingPoint,
  sortDescending,
  type FarKey,
} from './metrics.js';

/**
 * One unit-length embedding per dataset image (index = Dataset.images index), or null where no face was found
 * or the file could not be read. A null scores -Infinity against everything: a genuine attempt with no face is a
 * failure to match, an impostor attempt with no face is (correctly) rejected. Nothing is silently dropped.
 */
export type Vectors = readonly (Float32Array | null)[];

export interface ScoreSets {
  genuine: Float64Array;
  impostor: Float64Array;
}

/** Every same-identity pair (genuine) and every different-identity pair (impostor), in a fixed order. */
export function pairsScores(ds: Dataset, vec: Vectors): ScoreSets {
  const n = ds.images.length;
  let ng = 0;
  for (const id of ds.identities) ng += (id.images.length * (id.images.length - 1)) / 2;
  const genuine = new Float64Array(ng);
  const impostor = new Float64Array((n * (n - 1)) / 2 - ng);
  let gi = 0;
  let ii = 0;
  for (let a = 0; a < n; a++) {
    const va = vec[a] ?? null;
    const ida = ds.images[a]!.identity;
    for (let b = a + 1; b < n; b++) {
      const vb = vec[b] ?? null;
      const s = va && vb ? dot(va, vb) : -Infinity;
      if (ds.images[b]!.identity === ida) genuine[gi++] = s;
      else impostor[ii++] = s;
    }
  }
  return { genuine, impostor };
}

export interface UnlockOptions extends AggregationOptions {
  /** Gallery size per identity: its first images by name. */
  gallery: number;
  /** Frames of recordings (`SEQUENCE-FRAME.ext`): enrol from one recording, probe with the others (dataset.ts). */
  sequences?: boolean;
}

/** Scores probes against one identity's gallery; null vectors (no face) and an empty gallery score -Infinity. */
export function galleryScorer(vec: Vectors, gallery: readonly number[], opts: AggregationOptions): (image: number) => number {
  const templates = gallery.map((i) => vec[i] ?? null).filter((v): v is Float32Array => v !== null);
  const set = templates.length > 0 ? new TemplateSet(templates) : null;
  return (i) => {
    const v = vec[i] ?? null;
    return set && v ? set.score(v, opts) : -Infinity;
  };
}

/**
 * The unlock protocol: per identity, the gallery is its first `gallery` images (by name) and its other images
 * are genuine attempts; every image of every other identity is an impostor attempt against that gallery.
 * Gallery images without a face are left out of the gallery; a gallery with none left rejects everything.
 */
export function unlockScores(ds: Dataset, vec: Vectors, opts: UnlockOptions): ScoreSets {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let id = 0; id < ds.identities.length; id++) {
    const split = enrolmentSplit(ds, id, opts.gallery, opts.sequences ?? false);
    const score = galleryScorer(vec, split.gallery, opts);
    for (const group of split.probes) for (const i of group) genuine.push(score(i));
    for (let other = 0; other < ds.identities.length; other++) {
      if (other === id) continue;
      for (const i of ds.identities[other]!.images) impostor.push(score(i));
    }
  }
  return { genuine: Float64Array.from(genuine), impostor: Float64Array.from(impostor) };
}

/** Scores of an LFW pairs file's pairs, in file order; `vectorOf` returns null for a missing or faceless image. */
export function lfwScores(pairs: LfwPairs, vectorOf: (name: string, n: number) => Float32Array | null): Float64Array {
  const out = new Float64Array(pairs.pairs.length);
  pairs.pairs.forEach((p, i) => {
    const va = vectorOf(p.a.name, p.a.n);
    const vb = vectorOf(p.b.name, p.b.n);
    out[i] = va && vb ? dot(va, vb) : -Infinity;
  });
  return out;
}

export interface LfwResult {
  /** Mean of the per-fold accuracies. */
  accuracy: number;
  /** Sample standard deviation of the per-fold accuracies (LFW's σ); standard error is std/√folds. */
  std: number;
  folds: number[];
  thresholds: number[];
}

/**
 * LFW's 10-fold protocol: for each fold, the threshold that maximises accuracy on the other folds is applied to
 * it. Needs at least two folds.
 */
export function lfwAccuracy(pairs: LfwPairs, scores: Float64Array): LfwResult {
  if (pairs.folds < 2) throw new Error('LFW cross-validation needs at least 2 folds');
  const folds: number[] = [];
  const thresholds: number[] = [];
  for (let f = 0; f < pairs.folds; f++) {
    const trainScores: number[] = [];
    const trainSame: boolean[] = [];
    pairs.pairs.forEach((p, i) => {
      if (p.fold !== f) {
        trainScores.push(scores[i]!);
        trainSame.push(p.same);
      }
    });
    const { threshold } = bestAccuracyThreshold(trainScores, trainSame);
    let correct = 0;
    let total = 0;
    pairs.pairs.forEach((p, i) => {
      if (p.fold !== f) return;
      total++;
      if (scores[i]! > threshold === p.same) correct++;
    });
    folds.push(correct / total);
    thresholds.push(threshold);
  }
  const { mean, std } = meanStd(folds);
  return { accuracy: mean, std, folds, thresholds };
}

type PerFar<T> = Partial<Record<FarKey, T>>;

export interface PairsSummary {
  genuine: number;
  impostor: number;
  eer: number;
  eer_threshold: number;
  tar_at_far: PerFar<number | null>;
  threshold_at_far: PerFar<number | null>;
}

export function summarisePairs(s: ScoreSets): PairsSummary {
  const g = sortDescending(s.genuine);
  const im = sortDescending(s.impostor);
  const e = equalErrorRate(g, im);
  const tar: PerFar<number | null> = {};
  const thr: PerFar<number | null> = {};
  for (const k of PAIRS_FARS) {
    const op = operatingPoint(g, im, FAR_TARGETS[k]);
    tar[k] = op ? op.tar : null;
    thr[k] = op ? op.threshold : null;
  }
  return { genuine: g.length, impostor: im.length, eer: e.eer, eer_threshold: e.threshold, tar_at_far: tar, threshold_at_far: thr };
}

export interface UnlockSummary {
  genuine: number;
  impostor: number;
  frr_at_far: PerFar<number | null>;
  false_rejects_at_far: PerFar<number | null>;
  false_accepts_at_far: PerFar<number | null>;
  threshold_at_far: PerFar<number | null>;
  eer: number;
}

export function summariseUnlock(s: ScoreSets): UnlockSummary {
  const g = sortDescending(s.genuine);
  const im = sortDescending(s.impostor);
  const out: UnlockSummary = {
    genuine: g.length,
    impostor: im.length,
    frr_at_far: {},
    false_rejects_at_far: {},
    false_accepts_at_far: {},
    threshold_at_far: {},
    eer: g.length && im.length ? equalErrorRate(g, im).eer : NaN,
  };
  for (const k of UNLOCK_FARS) {
    const op = operatingPoint(g, im, FAR_TARGETS[k]);
    out.frr_at_far[k] = op ? op.frr : null;
    out.false_rejects_at_far[k] = op ? op.falseRejects : null;
    out.false_accepts_at_far[k] = op ? op.falseAccepts : null;
    out.threshold_at_far[k] = op ? op.threshold : null;
  }
  return out;
}
