import fs from 'node:fs';
import { sha256 } from '../models/build/fetch.js';
import { padFrameMetrics, trainPadFolds } from '../liveness/pad-eval.js';
import { defaultPadModelPath, readPadCalibration } from '../liveness/pad-model.js';
import type { PadFoldSource } from './eval-pad.js';

/**
 * The PAD classifier's leave-subjects-out folds (src/liveness/pad-eval.ts) as eval-pad uses them: one scorer per
 * held-out subject, and the `frames` figures of the out-of-fold scores at the shipped model's threshold.
 */
export async function loadPadFolds(
  datasetDir: string,
  threads: number | undefined,
  progress: (stage: string, done: number, total: number) => void,
): Promise<PadFoldSource> {
  const cal = readPadCalibration();
  const shipped = sha256(fs.readFileSync(defaultPadModelPath()));
  if (shipped !== cal.model_sha256) throw new Error('trained/pad.onnx is not the model calibration/pad.json was made for; run "npm run train:pad"');
  const folds = await trainPadFolds(datasetDir, {
    ...(threads !== undefined ? { intraOpThreads: threads } : {}),
    onProgress: (d, t) => progress('pad folds', d, t),
  });
  return {
    shippedSha256: shipped,
    foldFor: (subject) => folds.foldFor(subject),
    frames: () => {
      const scored = folds.frames.flatMap((f, i) => {
        const s = folds.scores[i];
        return s === null || s === undefined ? [] : [{ attackType: f.attack ? f.cls : null, score: s }];
      });
      return { ...padFrameMetrics(scored, cal.threshold), threshold: cal.threshold, frames: scored.length, no_face: folds.frames.length - scored.length };
    },
    close: () => folds.close(),
  };
}
