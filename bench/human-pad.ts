#!/usr/bin/env node
// node dist/bench/human-pad.js [--dataset DIR]: Human's antispoof (128 px) and liveness (32 px) CNNs, as npm ships
// them (converted to ONNX here), measured per frame on a presentation-attack set (nuaa-dev layout): face crops
// around the BlazeFace box at several paddings, EER of live against attack frames. These models are measured
// candidates only; facegate does not use them (docs/liveness.md).
import path from 'node:path';
import { equalErrorRate } from '../src/eval/metrics.js';
import { listPadDataset } from '../src/eval/pad-dataset.js';
import { loadModel } from '../src/models/session.js';
import { datasetsDir } from '../src/paths.js';
import { warpAffine } from '../src/vision/align.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline } from '../src/vision/pipeline.js';
import type { Box, RawImage } from '../src/vision/types.js';

const PADDINGS = [1.0, 1.6, 2.2];

/** The square crop of `box` scaled by `k` about its centre, resized to `size` (RGB). */
function crop(img: RawImage, box: Box, k: number, size: number): RawImage {
  const side = Math.max(box.width, box.height) * k;
  const x0 = box.x + box.width / 2 - side / 2;
  const y0 = box.y + box.height / 2 - side / 2;
  const s = side / size;
  return warpAffine(img, { a: s, b: 0, c: 0, d: s, tx: x0, ty: y0 }, size, 3);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const root = argv.includes('--dataset') ? argv[argv.indexOf('--dataset') + 1]! : path.join(datasetsDir(), 'nuaa-dev');
  const ds = listPadDataset(root);
  const pipe = await FacePipeline.load({ embedders: [], intraOpThreads: 1 });
  const models = { antispoof: await loadModel('human-antispoof', { intraOpThreads: 1 }), liveness: await loadModel('human-liveness', { intraOpThreads: 1 }) };
  const scores: Record<string, { live: number[]; attack: number[] }> = {};
  try {
    for (const s of ds.sequences) {
      for (const file of s.frames) {
        const img = await decodeFile(file);
        const f = (await pipe.analyze(img, { embed: false, maxFaces: 1 })).faces[0];
        if (!f) continue;
        for (const [name, m] of Object.entries(models)) {
          const input = m.inputNames[0]!;
          const size = name === 'antispoof' ? 128 : 32;
          for (const k of PADDINGS) {
            const c = crop(img, f.box, k, size);
            const data = Float32Array.from(c.data, (v) => v / 255);
            const out = await m.run({ [input]: { data, dims: [1, size, size, 3] } });
            const v = Object.values(out)[0]!.data[0]!;
            const key = `${name}@${k}`;
            scores[key] ??= { live: [], attack: [] };
            // Human reads both outputs as "real" probability (higher = live).
            (s.cls === 'live' ? scores[key].live : scores[key].attack).push(v);
          }
        }
      }
    }
  } finally {
    await pipe.close();
    await models.antispoof.release();
    await models.liveness.release();
  }
  const report: Record<string, { eer: number; live: number; attack: number }> = {};
  for (const [k, v] of Object.entries(scores)) {
    // Orientation is not assumed: an EER above 50 % means the score runs the other way.
    report[k] = { eer: Number(equalErrorRate(v.live, v.attack).eer.toFixed(4)), live: v.live.length, attack: v.attack.length };
  }
  console.log(JSON.stringify({ dataset: root, per_frame: report }, null, 2));
}

main().catch((err: unknown) => {
  console.error(`human-pad: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});
