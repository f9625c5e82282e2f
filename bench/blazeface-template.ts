/**
 * Where BlazeFace's eye, nose and mouth keypoints sit in dlib's normalised mean-face frame, measured by aligning
 * each face with the 68-point landmarks (dlib's template, no padding) and mapping the keypoints through the same
 * transform. Prints the per-keypoint median, to compare with the template derived from dlib's mean face.
 *   node dist/bench/blazeface-template.js [DIR ...]
 */
import fs from 'node:fs';
import path from 'node:path';
import { datasetsDir } from '../src/paths.js';
import { alignmentPairs, applyAffine, DLIB_BLAZEFACE_TEMPLATE, DLIB_MEAN_FEATURES, estimateSimilarity } from '../src/vision/align.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline } from '../src/vision/pipeline.js';

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : [path.join(datasetsDir(), 'lfw-dev')];
const pipe = await FacePipeline.load({ embedders: [], landmarker: '68' });
const xs: number[][] = [[], [], [], []];
const ys: number[][] = [[], [], [], []];
for (const dir of dirs) {
  for (const id of fs.readdirSync(dir).sort()) {
    const d = path.join(dir, id);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d).sort()) {
      const r = await pipe.analyze(await decodeFile(path.join(d, f)), { maxFaces: 1, embed: false });
      const face = r.faces[0];
      if (!face || face.keypoints.length < 4) continue;
      // Image → normalised mean-face frame (size 1, padding 0).
      const { chip, image } = alignmentPairs('ibug68', face.landmarks, { size: 1, padding: 0 });
      const toNorm = estimateSimilarity(image, chip);
      for (let k = 0; k < 4; k++) {
        const p = applyAffine(toNorm, face.keypoints[k]!);
        xs[k]!.push(p.x);
        ys[k]!.push(p.y);
      }
    }
  }
}
await pipe.close();
const med = (v: number[]): number => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const names = ['right eye', 'left eye', 'nose tip', 'mouth'];
for (let k = 0; k < 4; k++) {
  const t = DLIB_MEAN_FEATURES[k]!;
  const u = DLIB_BLAZEFACE_TEMPLATE[k]!;
  console.log(
    `${names[k]!.padEnd(10)} measured (${med(xs[k]!).toFixed(4)}, ${med(ys[k]!).toFixed(4)})  in use (${u.x.toFixed(4)}, ${u.y.toFixed(4)})  ` +
      `mean-face (${t.x.toFixed(4)}, ${t.y.toFixed(4)})  n=${xs[k]!.length}`,
  );
}
