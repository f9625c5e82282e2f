import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetsDir, modelsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { findPadFaces, listPadDataset, loadPadPipeline } from '../src/liveness/pad-dataset.js';
import { padFrameMetrics, trainPadFolds } from '../src/liveness/pad-eval.js';
import { PadModel } from '../src/liveness/pad-model.js';

const nuaa = path.join(datasetsDir(), 'nuaa-dev');
const haveNuaa = fs.existsSync(path.join(nuaa, 'live')) && fs.existsSync(path.join(nuaa, 'print'));
const haveModels = fs.existsSync(path.join(modelsDir(), 'manifest.json'));
const skip = (!haveNuaa && `nuaa-dev absent: ${nuaa}`) || (!haveModels && `models absent: ${modelsDir()} (npm run build:models)`);

/** A small copy of nuaa-dev's layout (symlinks): 3 subjects, the first 6 frames of each class. */
function subset(dir: string): void {
  for (const cls of ['live', 'print']) {
    for (const subject of ['0001', '0003', '0005']) {
      const src = path.join(nuaa, cls, subject);
      const dst = path.join(dir, cls, subject);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of fs.readdirSync(src).sort().slice(0, 6)) fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
  }
}

test('LOSO folds on nuaa-dev frames: each fold scores its left-out subject, ONNX fold = out-of-fold score', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pad-nuaa-'));
  const pipeline = await loadPadPipeline({ intraOpThreads: 1 });
  try {
    subset(dir);
    const folds = await trainPadFolds(dir, { pipeline, threshold: 0.5 });
    try {
      assert.deepEqual([...folds.subjects], ['0001', '0003', '0005']);
      const frames = listPadDataset(dir);
      const faces = await findPadFaces(frames, pipeline);
      for (const [i, f] of frames.entries()) {
        if (i % 5 !== 0) continue;
        const face = faces[i];
        const expected = folds.scores[i];
        if (!face || expected === null || expected === undefined) continue;
        const scorer = await folds.foldFor(f.subject);
        assert.equal(scorer.threshold, 0.5);
        const got = await scorer.score({ image: await decodeFile(f.path), ...face });
        assert.ok(Math.abs(got - expected) < 1e-5, `${f.rel}: ONNX fold ${got} vs TS ${expected}`);
      }
      const scored = frames.flatMap((f, i) => (folds.scores[i] == null ? [] : [{ attackType: f.attack ? f.cls : null, score: folds.scores[i]! }]));
      const m = padFrameMetrics(scored, folds.threshold);
      assert.deepEqual(Object.keys(m.apcer), ['print']);
    } finally {
      await folds.close();
    }

    // The shipped model tells these live frames from these prints on average (they were in its training set;
    // docs/pad-model.md gives the leave-subjects-out figures).
    const model = await PadModel.load({ intraOpThreads: 1 });
    try {
      const frames = listPadDataset(dir);
      const faces = await findPadFaces(frames, pipeline);
      const mean = { live: [0, 0], print: [0, 0] } as Record<string, [number, number]>;
      for (const [i, f] of frames.entries()) {
        const face = faces[i];
        if (!face) continue;
        const s = await model.score({ image: await decodeFile(f.path), ...face });
        mean[f.cls]![0] += s;
        mean[f.cls]![1]++;
      }
      assert.ok(mean.live![0] / mean.live![1] > mean.print![0] / mean.print![1]);
    } finally {
      await model.close();
    }
  } finally {
    await pipeline.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
