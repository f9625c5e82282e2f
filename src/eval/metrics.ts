/**
 * Verification metrics from genuine and impostor score arrays. Exact and sort-based: no histogram binning.
 *
 * Decision rule everywhere in facegate: an attempt is ACCEPTED iff score > threshold (strictly greater).
 *
 * Threshold at a target FAR f, with N impostor scores: let k = floor(f·N). The threshold is the (k+1)-th highest
 * impostor score, so at most k impostors (a fraction ≤ f) score strictly above it; ties at the threshold are
 * rejected, which can only lower the false accepts. The FAR is "resolvable" only when k ≥ 1, i.e. N ≥ 1/f:
 * with fewer impostors no false accept is allowed at all and the threshold would just be the highest impostor
 * score seen, which says nothing about f. Unresolvable operating points are reported as null.
 */

/** FAR targets reported by eval, keyed as in the JSON output. */
export const FAR_TARGETS = { '1e-2': 1e-2, '1e-3': 1e-3, '1e-4': 1e-4, '1e-5': 1e-5 } as const;
export type FarKey = keyof typeof FAR_TARGETS;
export const PAIRS_FARS: readonly FarKey[] = ['1e-2', '1e-3', '1e-4', '1e-5'];
export const UNLOCK_FARS: readonly FarKey[] = ['1e-3', '1e-4', '1e-5'];

export type Scores = Float64Array | readonly number[];

/** Copy sorted from highest to lowest (NaN is refused: a score must be a number or -Infinity). */
export function sortDescending(scores: Scores): Float64Array {
  const out = Float64Array.from(scores);
  for (const s of out) if (Number.isNaN(s)) throw new Error('score is NaN');
  out.sort();
  out.reverse();
  return out;
}

/** Number of entries strictly greater than t in a descending array (binary search). */
export function countAbove(desc: Float64Array, t: number): number {
  let lo = 0;
  let hi = desc.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (desc[mid]! > t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Largest k such that k ≤ far·n, robust to the binary representation of far (1e-3·1000 must give 1). */
export function allowedFalseAccepts(far: number, n: number): number {
  return Math.floor(far * n * (1 + 1e-9));
}

export interface OperatingPoint {
  far: number;
  /** Accept iff score > threshold. */
  threshold: number;
  falseAccepts: number;
  /** Genuine attempts accepted / rejected at this threshold. */
  trueAccepts: number;
  falseRejects: number;
  tar: number;
  frr: number;
}

/** The operating point at target FAR `far`, or null if the impostor count cannot resolve it (N < 1/far). */
export function operatingPoint(genuineDesc: Float64Array, impostorDesc: Float64Array, far: number): OperatingPoint | null {
  const n = impostorDesc.length;
  const k = allowedFalseAccepts(far, n);
  if (n === 0 || k < 1 || genuineDesc.length === 0) return null;
  const threshold = k >= n ? -Infinity : impostorDesc[k]!;
  const falseAccepts = countAbove(impostorDesc, threshold);
  const trueAccepts = countAbove(genuineDesc, threshold);
  const ng = genuineDesc.length;
  return {
    far,
    threshold,
    falseAccepts,
    trueAccepts,
    falseRejects: ng - trueAccepts,
    tar: trueAccepts / ng,
    frr: (ng - trueAccepts) / ng,
  };
}

export interface RocPoint {
  /** Accept iff score > threshold; the first point (nothing accepted) has threshold +Infinity. */
  threshold: number;
  far: number;
  tar: number;
}

/**
 * The full ROC: one point per distinct score, from nothing accepted (0, 0) to everything accepted (1, 1).
 * Point i accepts every score ≥ its value, i.e. threshold = the next lower distinct score.
 */
export function rocCurve(genuine: Scores, impostor: Scores): RocPoint[] {
  const g = sortDescending(genuine);
  const im = sortDescending(impostor);
  const ng = g.length;
  const ni = im.length;
  if (ng === 0 || ni === 0) throw new Error('ROC needs at least one genuine and one impostor score');
  const points: RocPoint[] = [{ threshold: Infinity, far: 0, tar: 0 }];
  let i = 0;
  let j = 0;
  while (i < ng || j < ni) {
    // Next distinct value, taking all equal scores from both lists at once.
    const v = Math.max(i < ng ? g[i]! : -Infinity, j < ni ? im[j]! : -Infinity);
    while (i < ng && g[i]! === v) i++;
    while (j < ni && im[j]! === v) j++;
    const next = Math.max(i < ng ? g[i]! : -Infinity, j < ni ? im[j]! : -Infinity);
    points.push({ threshold: i === ng && j === ni ? -Infinity : next, far: j / ni, tar: i / ng });
  }
  return points;
}

export interface EqualErrorRate {
  eer: number;
  /** A threshold at the crossing (accept iff score > threshold). */
  threshold: number;
}

/**
 * Equal error rate on the piecewise-linear ROC: FAR(t) rises and FRR(t) falls as the threshold drops; the EER is
 * where the segment joining consecutive ROC points crosses FAR = FRR (linear interpolation between them).
 */
export function equalErrorRate(genuine: Scores, impostor: Scores): EqualErrorRate {
  const roc = rocCurve(genuine, impostor);
  let prev = roc[0]!;
  let dPrev = prev.far - (1 - prev.tar);
  for (let p = 1; p < roc.length; p++) {
    const cur = roc[p]!;
    const d = cur.far - (1 - cur.tar);
    if (d >= 0) {
      if (d === 0) return { eer: cur.far, threshold: cur.threshold };
      const s = -dPrev / (d - dPrev);
      return { eer: prev.far + s * (cur.far - prev.far), threshold: s < 0.5 ? prev.threshold : cur.threshold };
    }
    prev = cur;
    dPrev = d;
  }
  // Unreachable: the last ROC point is (1, 1) where d = 1.
  throw new Error('ROC does not cross FAR = FRR');
}

/** Mean and sample standard deviation (n − 1). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const v = values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1);
  return { mean, std: Math.sqrt(v) };
}

/**
 * The threshold maximising accuracy on labelled scores (same-person pairs should score above it). Candidates
 * are midpoints between consecutive distinct scores plus both ends; the first best (lowest) one wins.
 */
export function bestAccuracyThreshold(scores: Scores, same: readonly boolean[]): { threshold: number; accuracy: number } {
  const n = scores.length;
  if (n === 0 || same.length !== n) throw new Error('bestAccuracyThreshold needs equal, non-empty inputs');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || 0);
  let positives = 0;
  for (const s of same) if (s) positives++;
  // Threshold below everything: all accepted, correct = positives.
  let correct = positives;
  let best = correct;
  let bestT = -Infinity;
  let idx = 0;
  while (idx < n) {
    const v = scores[order[idx]!]!;
    while (idx < n && scores[order[idx]!]! === v) {
      // Moving the threshold to ≥ v rejects this score.
      correct += same[order[idx]!] ? -1 : 1;
      idx++;
    }
    if (correct > best) {
      best = correct;
      const next = idx < n ? scores[order[idx]!]! : Infinity;
      bestT = next === Infinity ? v + 1 : v === -Infinity ? (next === -Infinity ? -Infinity : next - 1) : (v + next) / 2;
    }
  }
  return { threshold: bestT, accuracy: best / n };
}

/** Median (mean of the middle two for even n) and 95th percentile (nearest rank) of timings. */
export function timingSummary(values: readonly number[]): { p50: number; p95: number; n: number } {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return { p50: NaN, p95: NaN, n };
  const p50 = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const p95 = s[Math.max(0, Math.ceil(0.95 * n) - 1)]!;
  return { p50, p95, n };
}

/** P(X ≤ x) for X ~ Binomial(n, p), summed in log space so large n does not underflow. */
export function binomialCdf(x: number, n: number, p: number): number {
  if (x < 0) return 0;
  if (x >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  // log C(n, 0) p^0 q^n, then the ratio C(n,i+1)/C(n,i) = (n−i)/(i+1).
  let logTerm = n * lq;
  let sum = Math.exp(logTerm);
  for (let i = 0; i < x; i++) {
    logTerm += Math.log((n - i) / (i + 1)) + lp - lq;
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/**
 * One-sided exact (Clopper–Pearson) upper confidence bound on a rate from `errors` out of `n` trials: the largest
 * p with P(X ≤ errors | n, p) ≥ 1 − confidence. With no errors it is 1 − (1 − confidence)^(1/n) ≈ 3/n at 95 %
 * (the "rule of three"). NaN for n = 0.
 */
export function upperBound(errors: number, n: number, confidence = 0.95): number {
  if (!(n > 0)) return NaN;
  if (!Number.isInteger(errors) || errors < 0 || errors > n) throw new Error(`bad error count ${errors} of ${n}`);
  if (errors === n) return 1;
  const alpha = 1 - confidence;
  if (errors === 0) return 1 - alpha ** (1 / n);
  let lo = errors / n;
  let hi = 1;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(errors, n, mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}
