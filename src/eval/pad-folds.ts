import type { PadFoldSource } from './eval-pad.js';

/** The PAD classifier's leave-subjects-out folds (src/liveness/pad-eval.ts), as eval-pad uses them. */
export async function loadPadFolds(_datasetDir: string, _threads: number | undefined, _progress: (stage: string, done: number, total: number) => void): Promise<PadFoldSource> {
  throw new Error('the PAD classifier is not in this build yet: run with --no-pad');
}
