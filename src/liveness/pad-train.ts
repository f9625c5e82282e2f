/**
 * From extracted features to the shipped artefacts: LOSO folds pick the threshold and give the figures, then one
 * model on every subject is exported. Pure (no I/O, no randomness), so equal features give byte-identical files.
 */
import { sha256 } from '../models/build/fetch.js';
import { equalErrorRate } from '../eval/metrics.js';
import { logisticToOnnx } from './pad-classifier.js';
import type { FrameFeatures, PadFrame } from './pad-dataset.js';
import {
  losoModels,
  losoScores,
  PAD_LAMBDA,
  padFrameMetrics,
  subjectsOf,
  thresholdAtBpcer,
  trainOnFrames,
  type PadFrameFigures,
  type ScoredFrame,
} from './pad-eval.js';
import type { PadFeatureConfig } from './pad-features.js';
import { PAD_MODEL_ID, PAD_RULE, type PadCalibration, type PadFoldFigures } from './pad-model.js';

/** Bona fide frames the shipped threshold may reject (per frame), measured on LOSO scores. */
export const PAD_TARGET_BPCER = 0.05;

export interface PadArtifacts {
  onnx: Uint8Array;
  calibration: PadCalibration & {
    target_bpcer: number;
    classifier: { kind: 'logistic'; lambda: number; dim: number };
    dataset: { name: string; subjects: number; live: number; attack: Record<string, number>; noface: number };
    loso: { folds: PadFoldFigures[]; frames: PadFrameFigures };
    command: string;
  };
}

/** Rounded for the JSON file (figures, not thresholds): 6 decimals say all the data can. */
function r6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function foldFigures(subject: string, frames: readonly PadFrame[], scores: readonly (number | null)[], threshold: number): PadFoldFigures {
  const live: number[] = [];
  const attack: number[] = [];
  let noface = 0;
  frames.forEach((f, i) => {
    if (f.subject !== subject) return;
    const s = scores[i];
    if (s === null || s === undefined) noface++;
    else (f.attack ? attack : live).push(s);
  });
  return {
    subject,
    live: live.length,
    attack: attack.length,
    noface,
    bpcer: live.length ? r6(live.filter((s) => !(s > threshold)).length / live.length) : null,
    apcer: attack.length ? r6(attack.filter((s) => s > threshold).length / attack.length) : null,
    eer: live.length && attack.length ? r6(equalErrorRate(live, attack).eer) : null,
  };
}

export function buildPadArtifacts(
  frames: readonly PadFrame[],
  features: readonly FrameFeatures[],
  opts: { config: PadFeatureConfig; datasetName: string; lambda?: number; command?: string },
): PadArtifacts {
  const lambda = opts.lambda ?? PAD_LAMBDA;
  const models = losoModels(frames, features, lambda);
  const scores = losoScores(frames, features, models);
  const scored: ScoredFrame[] = frames.flatMap((f, i) => {
    const s = scores[i];
    return s === null || s === undefined ? [] : [{ attackType: f.attack ? f.cls : null, score: s }];
  });
  const threshold = thresholdAtBpcer(
    scored.filter((s) => s.attackType === null).map((s) => s.score),
    PAD_TARGET_BPCER,
  );
  if (!Number.isFinite(threshold)) throw new Error('too few bona fide frames to set a threshold at the target BPCER');
  const figures = padFrameMetrics(scored, threshold);
  const final = trainOnFrames(frames, features, () => true, lambda);
  const onnx = logisticToOnnx(final);
  const attack: Record<string, number> = {};
  for (const f of frames) if (f.attack) attack[f.cls] = (attack[f.cls] ?? 0) + 1;
  return {
    onnx,
    calibration: {
      model: PAD_MODEL_ID,
      model_sha256: sha256(onnx),
      rule: PAD_RULE,
      threshold,
      target_bpcer: PAD_TARGET_BPCER,
      features: opts.config,
      classifier: { kind: 'logistic', lambda, dim: final.weights.length },
      dataset: {
        name: opts.datasetName,
        subjects: subjectsOf(frames).length,
        live: frames.filter((f) => !f.attack).length,
        attack,
        noface: features.filter((x) => !x).length,
      },
      loso: {
        folds: subjectsOf(frames).map((s) => foldFigures(s, frames, scores, threshold)),
        frames: {
          bpcer: r6(figures.bpcer),
          apcer: Object.fromEntries(Object.entries(figures.apcer).map(([k, v]) => [k, r6(v)])),
          eer: r6(figures.eer),
          apcer_at_bpcer: { '0.01': r6(figures.apcer_at_bpcer['0.01']), '0.05': r6(figures.apcer_at_bpcer['0.05']) },
        },
      },
      command: opts.command ?? 'npm run train:pad',
    },
  };
}

/** The calibration file's text (stable key order, trailing newline). */
export function padCalibrationText(a: PadArtifacts): string {
  return `${JSON.stringify(a.calibration, null, 2)}\n`;
}
