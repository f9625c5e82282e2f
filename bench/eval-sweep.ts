#!/usr/bin/env node
/**
 * Compares matching settings on one dataset from a single embedding pass: both embedders, with and without flip
 * test-time augmentation, every template aggregation, score fusion, and (for LFW-named data) an LFW-style
 * 10-fold run on generated identity-disjoint pairs. This is how the defaults in docs/accuracy.md were chosen.
 *
 *   node dist/bench/eval-sweep.js --dataset DIR [--cropped] [--landmarker blazeface|68] [--pairs-out FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listDataset } from '../src/eval/dataset.js';
import { lfwAccuracy, lfwScores, pairsScores, summarisePairs, summariseUnlock, unlockScores, type ScoreSets } from '../src/eval/protocols.js';
import { fuseScores } from '../src/eval/evaluate.js';
import { makeLfwPairs, parseLfwPairs, type LfwPairs } from '../src/eval/lfw-pairs.js';
import { l2normalize, meanDirection } from '../src/match/similarity.js';
import type { Aggregation } from '../src/match/templates.js';
import { FacePipeline, type LandmarkerId } from '../src/vision/pipeline.js';
import { decodeImage } from '../src/vision/decode.js';
import { flipHorizontal } from '../src/vision/align.js';
import { subjectFace } from '../src/eval/pipeline-source.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    cropped: { type: 'boolean', default: false },
    landmarker: { type: 'string', default: 'blazeface' },
    'pairs-out': { type: 'string' },
    embedders: { type: 'string', default: 'face-api,faceres' },
  },
});
if (!args.dataset) throw new Error('--dataset DIR is required');
const ds = listDataset(args.dataset);
const models = args.embedders!.split(',');
const pipeline = await FacePipeline.load({ embedders: models, landmarker: args.landmarker as LandmarkerId, flipTTA: false });

type Vec = Float32Array | null;
const plain: Record<string, Vec[]> = Object.fromEntries(models.map((m) => [m, []]));
const flipped: Record<string, Vec[]> = Object.fromEntries(models.map((m) => [m, []]));
const t0 = Date.now();
for (const [i, img] of ds.images.entries()) {
  const image = await decodeImage(new Uint8Array(fs.readFileSync(img.path)));
  const r = await pipeline.analyze(image, { cropped: args.cropped, maxFaces: args.cropped ? 1 : 4 });
  const f = subjectFace(r.faces, r.width, r.height);
  for (const e of pipeline.embedders) {
    if (!f) {
      plain[e.id]!.push(null);
      flipped[e.id]!.push(null);
      continue;
    }
    const a = l2normalize(f.embeddings[e.id]!);
    const b = l2normalize(await e.embed(flipHorizontal(f.chips[e.id]!)));
    plain[e.id]!.push(a);
    flipped[e.id]!.push(meanDirection([a, b]));
  }
  if (i % 100 === 0) process.stderr.write(`${i}/${ds.images.length} ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
await pipeline.close();

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '  n/a ' : `${(100 * x).toFixed(2).padStart(6)}`);
const noFace = plain[models[0]!]!.filter((v) => v === null).length;
console.log(`dataset ${args.dataset}  landmarker ${args.landmarker}  cropped ${args.cropped}  images ${ds.images.length}  no face ${noFace}`);

let lfwPairs: LfwPairs | null = null;
if (!args.cropped && ds.identities.every((id) => id.images.length >= 2)) {
  const people = ds.identities.map((id) => ({
    name: id.name,
    images: id.images.map((i) => Number(/_(\d+)\.jpg$/i.exec(ds.images[i]!.rel)?.[1] ?? NaN)),
  }));
  if (people.every((p) => p.images.every(Number.isFinite))) {
    const text = makeLfwPairs(people, 10, 100, 1);
    if (args['pairs-out']) fs.writeFileSync(args['pairs-out'], text);
    lfwPairs = parseLfwPairs(text);
  }
}

const index = new Map(ds.images.map((im, i) => [im.rel, i]));
function lfwFor(vec: Vec[]): Float64Array | null {
  if (!lfwPairs) return null;
  return lfwScores(lfwPairs, (name, n) => vec[index.get(path.join(name, `${name}_${String(n).padStart(4, '0')}.jpg`)) ?? -1] ?? null);
}

console.log('setting                         | pairs EER  TAR@1e-3 TAR@1e-4 | unlock EER FRR@1e-3 FRR@1e-4 | lfw10 acc  std');
function row(label: string, pairs: ScoreSets, unlock: ScoreSets, lfw: Float64Array | null): void {
  const p = summarisePairs(pairs);
  const u = summariseUnlock(unlock);
  const l = lfw && lfwPairs ? lfwAccuracy(lfwPairs, lfw) : null;
  console.log(
    `${label.padEnd(31)} | ${pct(p.eer)}   ${pct(p.tar_at_far['1e-3'])}   ${pct(p.tar_at_far['1e-4'])} |  ${pct(u.eer)}   ${pct(u.frr_at_far['1e-3'])}   ${pct(u.frr_at_far['1e-4'])} | ${l ? `${pct(l.accuracy)} ${pct(l.std)}` : ''}`,
  );
}

const aggs: { label: string; aggregation: Aggregation; k?: number }[] = [
  { label: 'mean', aggregation: 'mean' },
  { label: 'max', aggregation: 'max' },
  { label: 'top2', aggregation: 'topk', k: 2 },
];
const cache = new Map<string, { pairs: ScoreSets; unlock: ScoreSets; lfw: Float64Array | null }>();
for (const m of models) {
  for (const [tta, vecs] of [
    ['', plain],
    ['+flip', flipped],
  ] as const) {
    const v = vecs[m]!;
    const pairs = pairsScores(ds, v);
    const lfw = lfwFor(v);
    for (const a of aggs) {
      const unlock = unlockScores(ds, v, { aggregation: a.aggregation, k: a.k ?? 2, gallery: 5 });
      cache.set(`${m}${tta}/${a.label}`, { pairs, unlock, lfw });
      row(`${m}${tta} ${a.label}`, pairs, unlock, lfw);
    }
  }
}
if (models.length === 2) {
  for (const tta of ['', '+flip']) {
    const a = cache.get(`${models[0]}${tta}/mean`)!;
    const b = cache.get(`${models[1]}${tta}/mean`)!;
    for (const w of [0.5, 0.7, 0.85]) {
      const lfw = a.lfw && b.lfw && lfwPairs ? fuseLfw(a.lfw, b.lfw, w) : null;
      row(`fusion${tta} w=${w} mean`, fuseScores(a.pairs, b.pairs, w), fuseScores(a.unlock, b.unlock, w), lfw);
    }
  }
}

function fuseLfw(a: Float64Array, b: Float64Array, w: number): Float64Array {
  const imp = (s: Float64Array): Float64Array => s.filter((_, i) => !lfwPairs!.pairs[i]!.same);
  return fuseScores({ genuine: a, impostor: imp(a) }, { genuine: b, impostor: imp(b) }, w).genuine;
}
