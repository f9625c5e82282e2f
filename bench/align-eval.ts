/**
 * Quick accuracy check of pipeline settings (landmarker, detector, flip TTA) on a `<identity>/<images>` dataset:
 * all-pairs EER and TAR at low FAR with cosine similarity, and unlock FRR (gallery = mean of the first 5
 * L2-normalised embeddings). For choosing alignment settings; `facegate eval` is the reference evaluator.
 *   node dist/bench/align-eval.js --dataset DIR [--landmarker 68] [--flip] [--cropped] [--embedder face-api]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { datasetsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline, type LandmarkerId } from '../src/vision/pipeline.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: path.join(datasetsDir(), 'lfw-dev') },
    landmarker: { type: 'string', default: 'blazeface' },
    detector: { type: 'string', default: 'front' },
    embedder: { type: 'string', default: 'face-api' },
    flip: { type: 'boolean', default: false },
    cropped: { type: 'boolean', default: false },
    'box-scale': { type: 'string', default: '1' },
    'box-shift': { type: 'string', default: '0' },
  },
});

const ids = fs
  .readdirSync(values.dataset)
  .filter((d) => fs.statSync(path.join(values.dataset, d)).isDirectory())
  .sort();
const pipe = await FacePipeline.load({
  embedders: [values.embedder],
  landmarker: values.landmarker as LandmarkerId,
  detector: values.detector as 'front' | 'back',
  flipTTA: values.flip,
  landmarkBoxScale: Number(values['box-scale']),
  landmarkBoxShift: Number(values['box-shift']),
});
const emb: { id: number; v: Float32Array | null }[] = [];
let noFace = 0;
for (let k = 0; k < ids.length; k++) {
  const dir = path.join(values.dataset, ids[k]!);
  for (const f of fs.readdirSync(dir).sort()) {
    const img = await decodeFile(path.join(dir, f));
    const r = await pipe.analyze(img, { cropped: values.cropped, maxFaces: 1 });
    const v = r.faces[0]?.embeddings[values.embedder];
    if (!v) noFace++;
    emb.push({ id: k, v: v ? norm(v) : null });
  }
}
await pipe.close();

function norm(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const k = 1 / Math.sqrt(s);
  return v.map((x) => x * k);
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
// Missing faces score -1: a failure to match, never silently dropped.
const sim = (a: Float32Array | null, b: Float32Array | null): number => (a && b ? dot(a, b) : -1);

const gen: number[] = [];
const imp: number[] = [];
for (let i = 0; i < emb.length; i++) for (let j = i + 1; j < emb.length; j++) (emb[i]!.id === emb[j]!.id ? gen : imp).push(sim(emb[i]!.v, emb[j]!.v));
gen.sort((a, b) => a - b);
imp.sort((a, b) => b - a);

function thrAtFar(impDesc: number[], far: number): number | null {
  const k = Math.floor(far * impDesc.length);
  if (k < 1) return null;
  return impDesc[k - 1]!; // accept strictly above: at most k impostors ≥ … approx
}
function frrAt(genAsc: number[], thr: number): number {
  let n = 0;
  for (const g of genAsc) if (g <= thr) n++;
  return n / genAsc.length;
}
function eer(genAsc: number[], impDesc: number[]): number {
  let best = 1;
  const cands = [...genAsc].filter((_, i) => i % 1 === 0);
  for (const t of cands) {
    const frr = frrAt(genAsc, t);
    const far = impDesc.filter((x) => x > t).length / impDesc.length;
    best = Math.min(best, Math.max(frr, far));
  }
  return best;
}

const out: string[] = [];
// d′ (separation of the score distributions) moves smoothly with small changes, unlike EER or TAR at low FAR,
// which hinge on a handful of pairs; use it to compare close settings.
const meanSd = (v: number[]): [number, number] => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
};
const [gm, gs] = meanSd(gen);
const [im, is] = meanSd(imp);
out.push(
  `pairs: genuine ${gen.length}, impostor ${imp.length}, EER ${(100 * eer(gen, imp)).toFixed(2)} %, d' ${((gm - im) / Math.sqrt((gs * gs + is * is) / 2)).toFixed(3)}`,
);
for (const far of [1e-3, 1e-4, 1e-5]) {
  const t = thrAtFar(imp, far);
  out.push(`  TAR@FAR ${far}: ${t === null ? 'n/a' : `${(100 * (1 - frrAt(gen, t))).toFixed(2)} %`}`);
}
// Unlock: gallery = mean of the first 5 normalised embeddings; probes = the rest; impostors = all other people's images.
const ug: number[] = [];
const ui: number[] = [];
for (let k = 0; k < ids.length; k++) {
  const mine = emb.filter((e) => e.id === k);
  const gal = mine
    .slice(0, 5)
    .filter((e) => e.v)
    .map((e) => e.v!);
  if (gal.length === 0) continue;
  const g = norm(gal.reduce((acc, v) => acc.map((x, i) => x + v[i]!), new Float32Array(gal[0]!.length)));
  for (const p of mine.slice(5)) ug.push(sim(g, p.v));
  for (const e of emb) if (e.id !== k) ui.push(sim(g, e.v));
}
ug.sort((a, b) => a - b);
ui.sort((a, b) => b - a);
for (const far of [1e-3, 1e-4, 1e-5]) {
  const t = thrAtFar(ui, far);
  out.push(`unlock FRR@FAR ${far}: ${t === null ? 'n/a' : `${(100 * frrAt(ug, t)).toFixed(2)} %`} (genuine ${ug.length}, impostor ${ui.length})`);
}
console.log(
  `${values.dataset} landmarker=${values.landmarker} detector=${values.detector} flip=${values.flip} box=${values['box-scale']}/${values['box-shift']} cropped=${values.cropped} embedder=${values.embedder} no-face=${noFace}`,
);
console.log(out.join('\n'));
