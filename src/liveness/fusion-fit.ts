import { thresholdsAtPercentile } from './calibration.js';
import { FUSED_CUES, summarise, type CueScores, type FusedCue } from './fusion.js';

/** The cue values of one sequence's frames in time order; null where no usable face was analysed (breaks windows). */
export interface CueSequence {
  subject: string;
  /** `live` or an attack type. */
  cls: string;
  frames: ReadonlyArray<CueScores | null>;
}

/** Every full sliding window of `w` consecutive analysed frames (runs broken by frames without a face). */
export function slidingWindows(frames: ReadonlyArray<CueScores | null>, w: number): CueScores[][] {
  const out: CueScores[][] = [];
  let run: CueScores[] = [];
  for (const f of frames) {
    if (!f) {
      run = [];
      continue;
    }
    run.push(f);
    if (run.length >= w) out.push(run.slice(run.length - w));
  }
  return out;
}

export interface FusionFit {
  window: number;
  percentile: number;
  thresholds: Partial<Record<FusedCue, number>>;
  live_windows: number;
  subjects: string[];
}

/**
 * Fusion thresholds from the bona fide sequences of the given subjects only: each cue's threshold at the
 * `percentile` of their live windows. Attack data is not used to place thresholds, so the rule cannot be tuned
 * to the attacks of the data set; attacks only measure it.
 */
export function fitFusion(sequences: readonly CueSequence[], opts: { window: number; percentile: number; cues?: readonly FusedCue[] }): FusionFit {
  const live = sequences.filter((s) => s.cls === 'live');
  const summaries = live.flatMap((s) => slidingWindows(s.frames, opts.window)).map((w) => summarise(w));
  if (summaries.length === 0) throw new Error('no live window to fit the liveness fusion on');
  const cues = (opts.cues ?? FUSED_CUES).filter((c) => summaries.some((s) => s[c] !== undefined));
  return {
    window: opts.window,
    percentile: opts.percentile,
    thresholds: thresholdsAtPercentile(summaries, cues, opts.percentile),
    live_windows: summaries.length,
    subjects: [...new Set(live.map((s) => s.subject))].sort(),
  };
}
