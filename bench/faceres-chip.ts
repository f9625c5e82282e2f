#!/usr/bin/env node
/**
 * Sweeps the chip padding of an embedder: for each padding, every image of a dataset is aligned on 68 iBUG
 * landmarks (face-api's net, or FaceMesh mapped to 68 with --landmarks facemesh68) found in the BlazeFace box
 * (or the whole image with --cropped), embedded (faceres by default), L2-normalised, and every pair scored by
 * cosine. Prints EER and TAR at FAR 1e-3 / 1e-4 per padding. This is how FACERES_CHIP was chosen;
 * `facegate eval` is the full evaluator.
 *
 *   node dist/bench/faceres-chip.js --dataset DIR [--cropped] [--embedder faceres|face-api]
 *        [--landmarks 68|facemesh68] 0.2 0.3 0.4 ...
 */
import fs from 'node:fs';
import path from 'node:path';
import { FaceresEmbedder } from '../src/embed/faceres.js';
import { FaceRecNetEmbedder } from '../src/embed/facerecnet.js';
import { FaceMesh68Landmarker } from '../src/vision/facemesh.js';
import type { Embedder } from '../src/embed/embedder.js';
import type { Landmarker } from '../src/vision/landmarker.js';
import { BlazeFace } from '../src/vision/blazeface.js';
import { FaceApiLandmarker } from '../src/vision/landmarks68.js';
import { decodeFile } from '../src/vision/decode.js';
import { chipToImage, warpAffine } from '../src/vision/align.js';
import type { Box } from '../src/vision/types.js';

function args(): { dataset: string; cropped: boolean; pads: number[]; embedder: string; landmarks: string } {
  const a = process.argv.slice(2);
  const opt = (name: string, dflt?: string): string | undefined => {
    const i = a.indexOf(name);
    return i >= 0 ? a[i + 1] : dflt;
  };
  const dataset = opt('--dataset');
  if (!dataset || !fs.existsSync(dataset)) throw new Error('--dataset DIR (with <identity>/<images>) is required');
  const embedder = opt('--embedder', 'faceres') as string;
  const landmarks = opt('--landmarks', '68') as string;
  if (!['faceres', 'face-api'].includes(embedder)) throw new Error('--embedder is faceres or face-api');
  if (!['68', 'facemesh68'].includes(landmarks)) throw new Error('--landmarks is 68 or facemesh68');
  const values = new Set(['--dataset', '--embedder', '--landmarks'].map((n) => a.indexOf(n) + 1).filter((k) => k > 0));
  const pads = a.filter((x, k) => !values.has(k) && !x.startsWith('--')).map(Number);
  if (pads.length === 0 || pads.some((p) => !(p >= 0 && p <= 2))) throw new Error('give one or more paddings in 0..2');
  return { dataset, cropped: a.includes('--cropped'), pads, embedder, landmarks };
}

async function main(): Promise<void> {
  const { dataset, cropped, pads, embedder, landmarks } = args();
  const det = await BlazeFace.load({ intraOpThreads: 1 });
  const lm: Landmarker = landmarks === '68' ? await FaceApiLandmarker.load({ intraOpThreads: 1 }) : await FaceMesh68Landmarker.load({ intraOpThreads: 1 });
  const emb: Embedder = embedder === 'faceres' ? await FaceresEmbedder.load({ intraOpThreads: 1 }) : await FaceRecNetEmbedder.load({ intraOpThreads: 1 });
  const size = emb.chip.size;
  const ids = fs
    .readdirSync(dataset)
    .filter((d) => fs.statSync(path.join(dataset, d)).isDirectory())
    .sort();
  const items: { id: string; file: string }[] = [];
  for (const id of ids) for (const f of fs.readdirSync(path.join(dataset, id)).sort()) items.push({ id, file: path.join(dataset, id, f) });
  const embs: Float32Array[][] = pads.map(() => []);
  const kept: string[] = [];
  for (const it of items) {
    let img;
    try {
      img = await decodeFile(it.file);
    } catch {
      continue;
    }
    let box: Box;
    if (cropped) box = { x: 0, y: 0, width: img.width, height: img.height };
    else {
      const [d] = await det.detect(img, { maxFaces: 1 });
      if (!d) continue;
      box = d.box;
    }
    const pts = await lm.detect(img, box);
    kept.push(it.id);
    for (const [k, padding] of pads.entries()) {
      const chip = warpAffine(img, chipToImage('ibug68', pts, { size, padding }), size, 3);
      const e = await emb.embed(chip);
      const n = Math.hypot(...e);
      (embs[k] as Float32Array[]).push(Float32Array.from(e, (v) => v / n));
    }
  }
  for (const [k, padding] of pads.entries()) {
    const E = embs[k] as Float32Array[];
    const gen: number[] = [];
    const imp: number[] = [];
    for (let i = 0; i < E.length; i++) {
      for (let j = i + 1; j < E.length; j++) {
        const a = E[i] as Float32Array;
        const b = E[j] as Float32Array;
        let s = 0;
        for (let q = 0; q < a.length; q++) s += (a[q] as number) * (b[q] as number);
        (kept[i] === kept[j] ? gen : imp).push(s);
      }
    }
    imp.sort((x, y) => y - x);
    const far = (t: number): number => imp.filter((s) => s >= t).length / imp.length;
    const frr = (t: number): number => gen.filter((s) => s < t).length / gen.length;
    let lo = -1;
    let hi = 1;
    for (let it = 0; it < 50; it++) {
      const t = (lo + hi) / 2;
      if (far(t) > frr(t)) lo = t;
      else hi = t;
    }
    const t = (lo + hi) / 2;
    const eer = (far(t) + frr(t)) / 2;
    const tar = (f: number): number => {
      const th = imp[Math.floor(f * imp.length)] as number;
      return gen.filter((s) => s > th).length / gen.length;
    };
    console.log(
      `padding ${padding}: EER ${(100 * eer).toFixed(2)} %  TAR@FAR1e-3 ${(100 * tar(1e-3)).toFixed(1)} %  TAR@FAR1e-4 ${(100 * tar(1e-4)).toFixed(1)} %  (${E.length} faces, ${gen.length} genuine / ${imp.length} impostor pairs)`,
    );
  }
  await Promise.all([det.close(), lm.close(), emb.close()]);
}

main().catch((err: unknown) => {
  console.error(`faceres-chip: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
