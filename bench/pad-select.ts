/**
 * Feature and ridge selection for the PAD classifier by leave-subjects-out cross-validation on nuaa-dev (the
 * table in docs/pad-model.md):
 *
 *   node dist/bench/pad-select.js [CONFIGS_JSON] [LAMBDAS_JSON]
 *
 * CONFIGS_JSON: [["name", PadFeatureConfig], …] (default: the shipped PAD_FEATURES); LAMBDAS_JSON: e.g.
 * [0.001, 0.01] (default: the shipped PAD_LAMBDA). Prints, per candidate, the pooled out-of-fold EER, APCER at
 * BPCER 5 % and 1 %, and per subject "BPCER/APCER" in % at the pooled BPCER-5 % threshold. The pipeline's faces
 * are cached in $TMPDIR/facegate-pad-faces.json so later candidates skip detection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { findPadFaces, listPadDataset, loadPadPipeline, type FrameFace } from '../src/liveness/pad-dataset.js';
import { padFeatures, PAD_FEATURES, type PadFeatureConfig } from '../src/liveness/pad-features.js';
import { losoModels, losoScores, PAD_LAMBDA, padFrameMetrics, thresholdAtBpcer } from '../src/liveness/pad-eval.js';

const root = path.join(datasetsDir(), 'nuaa-dev');
const frames = listPadDataset(root);
const cacheFile = path.join(os.tmpdir(), 'facegate-pad-faces.json');
let faces: FrameFace[];
if (fs.existsSync(cacheFile)) {
  faces = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as FrameFace[];
  if (faces.length !== frames.length) throw new Error(`${cacheFile} is for another data set; delete it`);
} else {
  const p = await loadPadPipeline({ intraOpThreads: 2 });
  faces = await findPadFaces(frames, p);
  await p.close();
  fs.writeFileSync(cacheFile, JSON.stringify(faces));
}
const configs = JSON.parse(process.argv[2] ?? '[]') as [string, PadFeatureConfig][];
if (configs.length === 0) configs.push(['shipped', PAD_FEATURES]);
const lambdas = JSON.parse(process.argv[3] ?? `[${PAD_LAMBDA}]`) as number[];
const pct = (v: number): string => (100 * v).toFixed(2);
for (const [name, cfg] of configs) {
  const feats: (Float32Array | null)[] = [];
  for (const [i, f] of frames.entries()) {
    const face = faces[i];
    feats.push(face ? padFeatures({ image: await decodeFile(f.path), ...face }, cfg) : null);
  }
  for (const lambda of lambdas) {
    const models = losoModels(frames, feats, lambda);
    const scores = losoScores(frames, feats, models);
    const scored = frames.flatMap((f, i) => (scores[i] == null ? [] : [{ attackType: f.attack ? f.cls : null, score: scores[i]! }]));
    const thr = thresholdAtBpcer(
      scored.filter((s) => s.attackType === null).map((s) => s.score),
      0.05,
    );
    const m = padFrameMetrics(scored, thr);
    const per = [...models.keys()].map((s) => {
      const sub = frames.flatMap((f, i) => (f.subject === s && scores[i] != null ? [{ attack: f.attack, s: scores[i]! }] : []));
      const live = sub.filter((x) => !x.attack);
      const att = sub.filter((x) => x.attack);
      const b = live.length ? ((100 * live.filter((x) => !(x.s > thr)).length) / live.length).toFixed(0) : '-';
      const a = att.length ? ((100 * att.filter((x) => x.s > thr).length) / att.length).toFixed(0) : '-';
      return `${s}:${b}/${a}`;
    });
    console.log(
      `${name} λ ${lambda}: EER ${pct(m.eer)} APCER@BPCER5 ${pct(m.apcer_at_bpcer['0.05'])} APCER@BPCER1 ${pct(m.apcer_at_bpcer['0.01'])} threshold ${thr.toFixed(3)} | ${per.join(' ')}`,
    );
  }
}
