import os from 'node:os';
import type { VerifySettings } from '../auth/verify.js';
import type { FaceEngine } from '../auth/engine.js';
import type { LivenessConfig } from '../config/config.js';
import { fusionParams } from '../liveness/load.js';
import { CUE_DIRECTION, FUSED_CUES, summarise, type FusedCue, type FusionParams } from '../liveness/fusion.js';
import { fitFusion, slidingWindows, type CueSequence, type FusionFit } from '../liveness/fusion-fit.js';
import type { PadScorer } from '../liveness/judge.js';
import type { LivenessCalibration } from '../liveness/calibration.js';
import { equalErrorRate, rocCurve, type RocPoint } from './metrics.js';
import { attemptFigures, losoFusion, runAttempts, sequenceCues, type AttemptFigures, type AttemptResult } from './pad-attempts.js';
import { BONA_FIDE, type PadDataset } from './pad-dataset.js';

/** The PAD classifier's leave-subjects-out folds and its per-frame figures (src/liveness/pad-eval.ts). */
export interface PadFoldSource {
  /** The scorer never trained on `subject`. */
  foldFor(subject: string): Promise<PadScorer>;
  /** The `frames` section: ISO/IEC 30107-3 per-frame figures of the out-of-fold scores at the shipped threshold. */
  frames(): unknown;
  /** The shipped model's SHA-256 (what a `pad` threshold in the calibration is tied to). */
  readonly shippedSha256: string;
  close(): Promise<void>;
}

export interface EvalPadOptions {
  ds: PadDataset;
  engine: FaceEngine;
  settings: VerifySettings;
  targetFar: number;
  /** Frames per attempt. */
  attemptFrames: number;
  /** The fusion rule's two hyper-parameters (the thresholds are fitted per fold). */
  fusionWindow: number;
  percentile: number;
  liveness: LivenessConfig;
  /** Null: PAD not available, the fusion runs on the multi-frame cues alone. */
  pad: PadFoldSource | null;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface CueFigures {
  /** Per attack type: equal error rate of the cue's window summary, live windows against attack windows. */
  window_eer: Record<string, number>;
  live_windows: number;
}

export interface EvalPadReport {
  dataset: string;
  frames: unknown;
  attempts: AttemptFigures & { window: number };
  ms_per_frame: number;
  /** Process CPU time of the liveness stage per frame: what it costs, however busy the machine was. */
  cpu_ms_per_frame: number;
  load_average_1m: number;
  cues: Record<string, CueFigures>;
  fusion: { window: number; percentile: number; cues: string[]; per_subject_thresholds: Record<string, Partial<Record<FusedCue, number>>> };
}

/** Each fused cue measured alone: window summaries (out-of-fold PAD), live against each attack type. */
export function cueFigures(
  seqs: readonly CueSequence[],
  window: number,
  attackTypes: readonly string[],
): { figures: Record<string, CueFigures>; roc: Record<string, RocPoint[]> } {
  const figures: Record<string, CueFigures> = {};
  const roc: Record<string, RocPoint[]> = {};
  const sums = seqs.map((s) => ({ cls: s.cls, w: slidingWindows(s.frames, window).map((x) => summarise(x)) }));
  for (const cue of [...FUSED_CUES, 'ear'] as const) {
    // Oriented so that higher = more live for every cue.
    const sign = cue === 'ear' || CUE_DIRECTION[cue as FusedCue] === 'min' ? 1 : -1;
    const vals = (cls: (c: string) => boolean): number[] =>
      sums
        .filter((s) => cls(s.cls))
        .flatMap((s) => s.w.map((x) => x[cue]))
        .filter((v): v is number => v !== undefined)
        .map((v) => sign * v);
    const live = vals((c) => c === BONA_FIDE);
    if (live.length === 0) continue;
    const eer: Record<string, number> = {};
    for (const t of attackTypes) {
      const att = vals((c) => c === t);
      if (att.length > 0) eer[t] = Number(equalErrorRate(live, att).eer.toFixed(4));
    }
    figures[cue] = { window_eer: eer, live_windows: live.length };
    const att = vals((c) => c !== BONA_FIDE);
    if (att.length > 0) roc[cue] = rocCurve(live, att);
  }
  return { figures, roc };
}

/**
 * `facegate eval-pad`: per-frame PAD figures, each cue alone, then the whole decision per attempt through
 * verifyFace with the fold PAD scorer and fusion thresholds fitted without the attempt's subject.
 */
export async function evalPad(
  o: EvalPadOptions,
): Promise<{ report: EvalPadReport; seqs: CueSequence[]; results: AttemptResult[]; roc: Record<string, RocPoint[]> }> {
  const padFor = async (subject: string): Promise<PadScorer | null> => (o.pad ? o.pad.foldFor(subject) : null);
  const seqs = await sequenceCues(o.ds.sequences, o.engine, o.settings, padFor, o.fusionWindow, (d, t) => o.onProgress?.('cues', d, t));
  const cues = o.liveness.cues.filter((c) => c !== 'pad' || o.pad) as FusedCue[];
  const base = fusionParams({ ...o.liveness, cues: [] }, { window: o.fusionWindow, percentile: o.percentile, thresholds: {} });
  const folds = losoFusion(seqs, o.ds.subjects, { window: o.fusionWindow, percentile: o.percentile, base: { min_ear: base.min_ear, ir: base.ir } });
  const select = (p: FusionParams): FusionParams => ({
    ...p,
    thresholds: Object.fromEntries(cues.filter((c) => p.thresholds[c] !== undefined).map((c) => [c, p.thresholds[c]!])),
  });
  let done = 0;
  const { results, unenrolled } = await runAttempts({
    ds: o.ds,
    window: o.attemptFrames,
    engine: o.engine,
    settings: o.settings,
    targetFar: o.targetFar,
    padFor,
    fusionFor: (s) => select(folds.get(s)!.params),
    onAttempt: () => o.onProgress?.('attempts', ++done, 0),
  });
  const lvFrames = results.reduce((a, r) => a + r.livenessFrames, 0);
  const lvMs = results.reduce((a, r) => a + r.livenessMs, 0);
  const lvCpu = results.reduce((a, r) => a + r.livenessCpuMs, 0);
  const { figures, roc } = cueFigures(seqs, o.fusionWindow, o.ds.attackTypes);
  const report: EvalPadReport = {
    dataset: o.ds.root,
    frames: o.pad ? o.pad.frames() : null,
    attempts: { ...attemptFigures(results, o.ds.attackTypes, unenrolled), window: o.attemptFrames },
    ms_per_frame: lvFrames > 0 ? Number((lvMs / lvFrames).toFixed(2)) : NaN,
    cpu_ms_per_frame: lvFrames > 0 ? Number((lvCpu / lvFrames).toFixed(2)) : NaN,
    load_average_1m: os.loadavg()[0]!,
    cues: figures,
    fusion: {
      window: o.fusionWindow,
      percentile: o.percentile,
      cues,
      per_subject_thresholds: Object.fromEntries([...folds].map(([s, f]) => [s, select(f.params).thresholds])),
    },
  };
  return { report, seqs, results, roc };
}

/** The shipped calibration: thresholds fitted on every subject's out-of-fold cue values, with provenance. */
export function shippedCalibration(
  seqs: readonly CueSequence[],
  o: { window: number; percentile: number; padSha256?: string; command: string; report: EvalPadReport },
): LivenessCalibration {
  const fit: FusionFit = fitFusion(seqs, {
    window: o.window,
    percentile: o.percentile,
    ...(o.padSha256 ? {} : { cues: FUSED_CUES.filter((c) => c !== 'pad') }),
  });
  return {
    window: fit.window,
    percentile: fit.percentile,
    thresholds: fit.thresholds,
    ...(o.padSha256 && fit.thresholds.pad !== undefined ? { pad_model_sha256: o.padSha256 } : {}),
    derived: {
      command: o.command,
      rule: 'live iff, over the last `window` analysed frames of one face track, the median of every cue clears its threshold (pad, parallax: >=; stillness, coherence, edges: <=) and the eyes are open',
      fitted_on: `${fit.live_windows} live windows of subjects ${fit.subjects.join(', ')}; attacks not used to place thresholds; PAD values out-of-fold`,
      loso: { attempts: o.report.attempts, ms_per_frame: o.report.ms_per_frame },
    },
  };
}
