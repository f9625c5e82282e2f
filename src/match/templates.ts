import { dot, meanDirection } from './similarity.js';

/**
 * How one probe is scored against a user's several templates.
 * - `mean`: the templates (unit length) are averaged into one unit vector and the probe is scored against it.
 *   Averaging cancels per-photo nuisance (pose, light) and gave the best low-FAR tail measured (docs/accuracy.md).
 * - `max`: best single template.
 * - `topk`: mean of the k best template scores.
 */
export type Aggregation = 'mean' | 'max' | 'topk';
export const AGGREGATIONS: readonly Aggregation[] = ['mean', 'max', 'topk'];

export interface AggregationOptions {
  aggregation: Aggregation;
  /** For `topk`; default 2. */
  k?: number;
}

export const DEFAULT_AGGREGATION: AggregationOptions = { aggregation: 'mean' };

/**
 * One user's templates for one model, L2-normalised, with whatever the aggregation needs precomputed so that
 * scoring a probe allocates nothing.
 */
export class TemplateSet {
  readonly templates: readonly Float32Array[];
  readonly centroid: Float32Array;

  /** `templates` must be unit length (as stored); they are not copied. */
  constructor(templates: readonly Float32Array[]) {
    if (templates.length === 0) throw new Error('a template set needs at least one template');
    const dim = templates[0]!.length;
    for (const t of templates) {
      if (t.length !== dim) throw new Error(`template length mismatch: ${dim} vs ${t.length}`);
    }
    this.templates = templates;
    this.centroid = meanDirection(templates);
  }

  get dim(): number {
    return this.centroid.length;
  }

  /** Similarity of a unit-length probe to this set, in [-1, 1]; higher is more alike. */
  score(probe: Float32Array, opts: AggregationOptions = DEFAULT_AGGREGATION): number {
    switch (opts.aggregation) {
      case 'mean':
        return dot(probe, this.centroid);
      case 'max': {
        let best = -Infinity;
        for (const t of this.templates) {
          const s = dot(probe, t);
          if (s > best) best = s;
        }
        return best;
      }
      case 'topk':
        return this.topk(probe, opts.k ?? 2);
    }
  }

  private topk(probe: Float32Array, k: number): number {
    if (!Number.isInteger(k) || k < 1) throw new Error(`top-k needs an integer k >= 1, got ${k}`);
    const n = Math.min(k, this.templates.length);
    // k is tiny (a handful of templates): insertion into a fixed-size descending list, no sort of all scores.
    const best: number[] = [];
    for (const t of this.templates) {
      const s = dot(probe, t);
      let i = best.length;
      while (i > 0 && best[i - 1]! < s) i--;
      if (i < n) {
        best.splice(i, 0, s);
        if (best.length > n) best.pop();
      }
    }
    let sum = 0;
    for (const s of best) sum += s;
    return sum / best.length;
  }
}

/**
 * Score a unit-length probe against a user's unit-length templates. Build a TemplateSet once and call its
 * `score` when matching the same user repeatedly.
 */
export function matchScore(probe: Float32Array, templates: readonly Float32Array[] | TemplateSet, opts: AggregationOptions = DEFAULT_AGGREGATION): number {
  const set = templates instanceof TemplateSet ? templates : new TemplateSet(templates);
  return set.score(probe, opts);
}
