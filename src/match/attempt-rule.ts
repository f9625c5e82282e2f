/**
 * The match part of one verification attempt: fed the per-frame scores of the attempt in the order they are
 * measured, it says when the attempt has matched. The same code decides in verifyFace (src/auth/verify.ts) and
 * is measured by the evaluator's attempt protocol (src/eval/attempts.ts), so the evaluated rule is the shipped one.
 *
 * Why not "any frame above the threshold": the daemon scores every frame until the deadline (dozens per
 * attempt), so a per-frame threshold gives an impostor dozens of tries. docs/accuracy.md measures the rules below
 * against each other and says why `best-mean` with 2 frames is the default.
 *
 * - `best-mean` (m frames): accept once the mean of the m best scores seen so far is > threshold. One lucky frame
 *   is not enough: a second frame must be nearly as good.
 * - `k-of` (k frames): accept once k scores (anywhere in the attempt) are > threshold.
 * With 1 frame both are the old per-frame rule. Both are monotone: more frames can only turn "no" into "yes",
 * so answering at the first frame that satisfies the rule equals judging the whole window at its end.
 */

export type AttemptRuleKind = 'best-mean' | 'k-of';
export const ATTEMPT_RULE_KINDS: readonly AttemptRuleKind[] = ['best-mean', 'k-of'];

export interface AttemptRule {
  kind: AttemptRuleKind;
  /** m for best-mean, k for k-of; an integer ≥ 1. */
  frames: number;
}

export const DEFAULT_ATTEMPT_RULE: AttemptRule = { kind: 'best-mean', frames: 2 };

export function checkAttemptRule(rule: AttemptRule): AttemptRule {
  if (!ATTEMPT_RULE_KINDS.includes(rule.kind)) throw new Error(`unknown attempt rule "${String(rule.kind)}"`);
  if (!Number.isInteger(rule.frames) || rule.frames < 1 || rule.frames > 100) {
    throw new Error(`attempt rule frames must be an integer in [1, 100], got ${rule.frames}`);
  }
  return rule;
}

export function describeRule(rule: AttemptRule): string {
  return rule.kind === 'best-mean' ? `mean of the best ${rule.frames} frame scores > threshold` : `${rule.frames} frame scores > threshold`;
}

/**
 * Whether `rule` accepts nothing that `than` would not accept at the same threshold, so a threshold calibrated
 * for `than` is still safe (fail closed) for `rule`. k-of k implies best-mean m for every m ≤ k (the m best are
 * all above the threshold); best-mean m implies best-mean m' for m' ≤ m (the mean of the best m' is at least the
 * mean of the best m).
 */
export function atLeastAsStrict(rule: AttemptRule, than: AttemptRule): boolean {
  if (than.kind === 'k-of') return rule.kind === 'k-of' && rule.frames >= than.frames;
  return rule.frames >= than.frames;
}

/** Online judge for one attempt. Allocation-free per frame; the m best scores are kept in a tiny sorted list. */
export class AttemptJudge {
  private readonly best: number[] = [];
  private above = 0;
  private count = 0;

  constructor(
    readonly rule: AttemptRule,
    readonly threshold: number,
  ) {
    checkAttemptRule(rule);
    if (Number.isNaN(threshold)) throw new Error('threshold is NaN');
  }

  /** Frames scored so far. */
  get frames(): number {
    return this.count;
  }

  /** Adds one frame's score; true once the attempt has matched (and for every later call). */
  push(score: number): boolean {
    if (Number.isNaN(score)) throw new Error('score is NaN');
    this.count++;
    if (score > this.threshold) this.above++;
    const m = this.rule.frames;
    // Insert into the descending list of the m best.
    let i = this.best.length;
    while (i > 0 && this.best[i - 1]! < score) i--;
    if (i < m) {
      this.best.splice(i, 0, score);
      if (this.best.length > m) this.best.pop();
    }
    return this.satisfied();
  }

  /** The rule's statistic so far (higher is more alike), -Infinity until enough frames were scored. */
  statistic(): number {
    const m = this.rule.frames;
    if (this.best.length < m) return -Infinity;
    if (this.rule.kind === 'k-of') return this.best[m - 1]!;
    let sum = 0;
    for (const s of this.best) sum += s;
    return sum / m;
  }

  satisfied(): boolean {
    if (this.rule.kind === 'k-of') return this.above >= this.rule.frames;
    return this.statistic() > this.threshold;
  }
}

/** Whether the rule accepts an attempt with these frame scores (in order); -Infinity means no face in that frame. */
export function attemptMatches(scores: Iterable<number>, rule: AttemptRule, threshold: number): boolean {
  const judge = new AttemptJudge(rule, threshold);
  for (const s of scores) {
    if (s === -Infinity) continue;
    if (judge.push(s)) return true;
  }
  return false;
}

/**
 * The rule's statistic over a whole attempt: the attempt is accepted at threshold t iff statistic > t (for
 * k-of: the k-th best score; for best-mean: the mean of the m best). Lets the evaluator sweep thresholds with
 * one number per attempt.
 */
export function attemptStatistic(scores: Iterable<number>, rule: AttemptRule): number {
  const judge = new AttemptJudge(rule, Infinity);
  for (const s of scores) if (s !== -Infinity) judge.push(s);
  return judge.statistic();
}
