/**
 * Leave-subjects-out (LOSO) training and ISO/IEC 30107-3 per-frame figures for the PAD classifier. Every score
 * reported comes from a model that never saw that subject: NUAA frames of one sequence are near-duplicates, so
 * folds split by subject, never by frame.
 */
import { allowedFalseAccepts, equalErrorRate } from '../eval/metrics.js';
import type { FacePipeline } from '../vision/pipeline.js';
import { logisticToOnnx, scoreLogistic, trainLogistic, type LogisticModel } from './pad-classifier.js';
import { extractPadFeatures, listPadDataset, loadPadPipeline, type FrameFeatures, type PadFrame } from './pad-dataset.js';
import { PAD_FEATURES, type PadFeatureConfig } from './pad-features.js';
import { PadModel, readPadCalibration, type PadInput } from './pad-model.js';

/** Ridge penalty of the shipped model (chosen by LOSO: docs/pad-model.md). */
export const PAD_LAMBDA = 0.01;

/** BPCER operating points reported as `apcer_at_bpcer`. */
export const PAD_BPCERS = ['0.01', '0.05'] as const;

/** Scores one face; PadModel and the LOSO fold scorers share it. */
export interface PadScorer {
  /** Per-frame threshold: live iff score > threshold. */
  readonly threshold: number;
  score(input: PadInput): Promise<number>;
}

/** Fits one model on the frames `include` accepts that have features. */
export function trainOnFrames(
  frames: readonly PadFrame[],
  features: readonly FrameFeatures[],
  include: (f: PadFrame) => boolean,
  lambda = PAD_LAMBDA,
): LogisticModel {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (const [i, f] of frames.entries()) {
    const x = features[i];
    if (!x || !include(f)) continue;
    rows.push(x);
    labels.push(f.attack ? 0 : 1);
  }
  if (rows.length === 0) throw new Error('no frames with a face to train on');
  const dim = rows[0]!.length;
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    x.set(r, i * dim);
  });
  return trainLogistic({ x, dim, y: Uint8Array.from(labels) }, { lambda });
}

export function subjectsOf(frames: readonly PadFrame[]): string[] {
  return [...new Set(frames.map((f) => f.subject))].sort();
}

/** One model per subject, trained on every other subject. */
export function losoModels(frames: readonly PadFrame[], features: readonly FrameFeatures[], lambda = PAD_LAMBDA): Map<string, LogisticModel> {
  const models = new Map<string, LogisticModel>();
  for (const s of subjectsOf(frames))
    models.set(
      s,
      trainOnFrames(frames, features, (f) => f.subject !== s, lambda),
    );
  return models;
}

/** Each frame scored by the fold that did not train on its subject; null where the frame has no face. */
export function losoScores(frames: readonly PadFrame[], features: readonly FrameFeatures[], models: ReadonlyMap<string, LogisticModel>): (number | null)[] {
  return frames.map((f, i) => {
    const x = features[i];
    const m = models.get(f.subject);
    if (!m) throw new Error(`no fold for subject ${f.subject}`);
    return x ? scoreLogistic(m, x) : null;
  });
}

export interface PadFrameFigures {
  /** Bona fide frames rejected at the threshold (live iff score > threshold). */
  bpcer: number;
  /** Per attack type: attack frames accepted as live at the threshold. */
  apcer: Record<string, number>;
  /** Equal error rate, all attack types pooled. */
  eer: number;
  /** APCER (the worst attack type) at the threshold giving each BPCER. */
  apcer_at_bpcer: Record<(typeof PAD_BPCERS)[number], number>;
}

export interface ScoredFrame {
  /** null for bona fide, else the attack type. */
  attackType: string | null;
  score: number;
}

/**
 * The highest threshold that rejects at most a fraction `bpcer` of the bona fide scores (live iff
 * score > threshold): with k = ⌊bpcer·n⌋ the threshold is the k-th lowest live score (-∞ when k = 0).
 */
export function thresholdAtBpcer(liveScores: readonly number[], bpcer: number): number {
  const asc = Float64Array.from(liveScores).sort();
  const k = allowedFalseAccepts(bpcer, asc.length);
  if (asc.length === 0) throw new Error('no bona fide scores');
  if (k < 1) return -Infinity;
  const t = asc[k - 1]!;
  if (k < asc.length && asc[k] === t) {
    // Ties at t would be rejected too: step below them so at most k are.
    const first = asc.indexOf(t);
    return first > 0 ? asc[first - 1]! : -Infinity;
  }
  return t;
}

/** ISO/IEC 30107-3 per-frame figures at `threshold`, plus the EER and the APCER at fixed BPCERs. */
export function padFrameMetrics(frames: readonly ScoredFrame[], threshold: number): PadFrameFigures {
  const live = frames.filter((f) => f.attackType === null).map((f) => f.score);
  const types = [...new Set(frames.map((f) => f.attackType).filter((t): t is string => t !== null))].sort();
  if (live.length === 0 || types.length === 0) throw new Error('PAD figures need bona fide and attack frames');
  const byType = new Map(types.map((t) => [t, frames.filter((f) => f.attackType === t).map((f) => f.score)]));
  const accepted = (scores: readonly number[], t: number): number => scores.filter((s) => s > t).length / scores.length;
  const apcer: Record<string, number> = {};
  for (const [t, s] of byType) apcer[t] = accepted(s, threshold);
  const attacks = frames.filter((f) => f.attackType !== null).map((f) => f.score);
  const atBpcer = {} as Record<(typeof PAD_BPCERS)[number], number>;
  for (const b of PAD_BPCERS) {
    const t = thresholdAtBpcer(live, Number(b));
    atBpcer[b] = Math.max(...[...byType.values()].map((s) => accepted(s, t)));
  }
  return {
    bpcer: 1 - accepted(live, threshold),
    apcer,
    eer: equalErrorRate(live, attacks).eer,
    apcer_at_bpcer: atBpcer,
  };
}

export interface PadFolds {
  readonly subjects: readonly string[];
  /** The threshold fold scorers carry: the shipped one (calibration/pad.json) unless given. */
  readonly threshold: number;
  readonly frames: readonly PadFrame[];
  /** Out-of-fold score per frame (null: no face found). */
  readonly scores: readonly (number | null)[];
  /** A scorer trained without `subject` (an ONNX model built in memory, run through ONNX Runtime). */
  foldFor(subject: string): Promise<PadScorer>;
  close(): Promise<void>;
}

export interface TrainFoldsOptions {
  /** A loaded face pipeline to reuse; otherwise one is loaded (and closed) with the daemon's settings. */
  pipeline?: FacePipeline;
  intraOpThreads?: number;
  lambda?: number;
  config?: PadFeatureConfig;
  /** Threshold for the fold scorers (default: the shipped calibration/pad.json threshold). */
  threshold?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Trains one PAD model per left-out subject of a CLASS/SUBJECT/SEQUENCE-FRAME.jpg data set. */
export async function trainPadFolds(datasetDir: string, opts: TrainFoldsOptions = {}): Promise<PadFolds> {
  const frames = listPadDataset(datasetDir);
  const threshold = opts.threshold ?? readPadCalibration().threshold;
  const own = opts.pipeline ? undefined : await loadPadPipeline(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {});
  let features: FrameFeatures[];
  try {
    features = await extractPadFeatures(frames, (opts.pipeline ?? own)!, {
      config: opts.config ?? PAD_FEATURES,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  } finally {
    await own?.close();
  }
  const models = losoModels(frames, features, opts.lambda ?? PAD_LAMBDA);
  const scores = losoScores(frames, features, models);
  const loaded = new Map<string, Promise<PadModel>>();
  const cfg = opts.config ?? PAD_FEATURES;
  return {
    subjects: [...models.keys()],
    threshold,
    frames,
    scores,
    foldFor(subject: string): Promise<PadScorer> {
      const m = models.get(subject);
      // A subject the data set does not hold was trained on by no fold: the full set leaves it out already.
      const model = m ?? trainOnFrames(frames, features, () => true, opts.lambda ?? PAD_LAMBDA);
      let p = loaded.get(subject);
      if (!p) {
        p = PadModel.fromBytes(logisticToOnnx(model), {
          threshold,
          config: cfg,
          ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
        });
        loaded.set(subject, p);
      }
      return p;
    },
    async close(): Promise<void> {
      const all = await Promise.allSettled(loaded.values());
      await Promise.allSettled(all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    },
  };
}
