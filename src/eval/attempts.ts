import { attemptMatches, attemptStatistic, describeRule, type AttemptRule } from '../match/attempt-rule.js';
import { enrolmentSplit, impostorGroups, type Dataset } from './dataset.js';
import { upperBound } from './metrics.js';
import { galleryScorer, type UnlockOptions, type Vectors } from './protocols.js';

/**
 * The attempt protocol: what the daemon decides on is not one probe image but the frames of one verification.
 * An attempt is up to W frames, scored one by one against an enrolled gallery and judged by the shipped attempt
 * rule (src/match/attempt-rule.ts).
 * - Genuine attempts: the identity's probe images (those not used for enrolment; with `sequences`, each other
 *   recording) in name order, cut into consecutive windows of W.
 * - Impostor attempts: the images of one other identity (with `sequences`, each of its recordings), cut the same
 *   way, against every gallery.
 * A group shorter than W is one attempt of all its frames (datasets have far fewer images per person than a
 * camera gives in a few seconds: the cap is reported); otherwise the last incomplete window is dropped.
 */
export interface AttemptSets {
  /** Frame scores of each attempt, in order; -Infinity for a frame without a face. */
  genuine: number[][];
  impostor: number[][];
  /** W asked for, and the longest attempts the data allowed. */
  frames: number;
  genuineFramesMax: number;
  impostorFramesMax: number;
}

export interface AttemptOptions extends UnlockOptions {
  /** W: frames per attempt. */
  frames: number;
}

/** Consecutive windows of `w` over a group (one window of the whole group when it is shorter). */
export function windows<T>(group: readonly T[], w: number): T[][] {
  if (!Number.isInteger(w) || w < 1) throw new Error(`attempt frames must be a positive integer, got ${w}`);
  if (group.length === 0) return [];
  if (group.length <= w) return [[...group]];
  const out: T[][] = [];
  for (let k = 0; k + w <= group.length; k += w) out.push(group.slice(k, k + w));
  return out;
}

export function attemptScores(ds: Dataset, vec: Vectors, opts: AttemptOptions): AttemptSets {
  const sequences = opts.sequences ?? false;
  const genuine: number[][] = [];
  const impostor: number[][] = [];
  const groupsOf = ds.identities.map((_, id) => impostorGroups(ds, id, sequences));
  for (let id = 0; id < ds.identities.length; id++) {
    const split = enrolmentSplit(ds, id, opts.gallery, sequences);
    const score = galleryScorer(vec, split.gallery, opts);
    for (const group of split.probes) for (const w of windows(group, opts.frames)) genuine.push(w.map(score));
    for (let other = 0; other < ds.identities.length; other++) {
      if (other === id) continue;
      for (const group of groupsOf[other]!) for (const w of windows(group, opts.frames)) impostor.push(w.map(score));
    }
  }
  const longest = (a: number[][]): number => a.reduce((m, x) => Math.max(m, x.length), 0);
  return { genuine, impostor, frames: opts.frames, genuineFramesMax: longest(genuine), impostorFramesMax: longest(impostor) };
}

export interface AttemptSummary {
  /** W asked for; `frames_genuine_max` / `frames_impostor_max`: what the dataset could give (the cap). */
  frames: number;
  frames_genuine_max: number;
  frames_impostor_max: number;
  rule: string;
  threshold: number;
  genuine: number;
  impostor: number;
  false_rejects: number;
  false_accepts: number;
  frr: number;
  far: number;
  /** One-sided 95 % Clopper–Pearson upper bound on the attempt FAR (≈ 3/impostor when none was accepted). */
  far_upper95: number;
  frr_upper95: number;
}

/** Judges every attempt with the rule at `threshold`. */
export function summariseAttempts(sets: AttemptSets, rule: AttemptRule, threshold: number): AttemptSummary {
  let fr = 0;
  let fa = 0;
  for (const a of sets.genuine) if (!attemptMatches(a, rule, threshold)) fr++;
  for (const a of sets.impostor) if (attemptMatches(a, rule, threshold)) fa++;
  const ng = sets.genuine.length;
  const ni = sets.impostor.length;
  return {
    frames: sets.frames,
    frames_genuine_max: sets.genuineFramesMax,
    frames_impostor_max: sets.impostorFramesMax,
    rule: describeRule(rule),
    threshold,
    genuine: ng,
    impostor: ni,
    false_rejects: fr,
    false_accepts: fa,
    frr: ng ? fr / ng : NaN,
    far: ni ? fa / ni : NaN,
    far_upper95: upperBound(fa, ni),
    frr_upper95: upperBound(fr, ng),
  };
}

/** One statistic per attempt (accepted at t iff statistic > t): genuine and impostor, for ROC-style sweeps. */
export function attemptStatistics(sets: AttemptSets, rule: AttemptRule): { genuine: Float64Array; impostor: Float64Array } {
  return {
    genuine: Float64Array.from(sets.genuine, (a) => attemptStatistic(a, rule)),
    impostor: Float64Array.from(sets.impostor, (a) => attemptStatistic(a, rule)),
  };
}
