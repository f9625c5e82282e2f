/**
 * Per-stage timing of the face pipeline on real images: `node dist/bench/pipeline.js [--dataset DIR] [--n 200]
 * [--threads N] [--landmarker blazeface|68] [--detector front|back] [--embedders face-api,faceres] [--flip]
 * [--cropped]`. Prints median and p95 per stage and per whole frame (detect + landmarks + align + embed; decode
 * listed separately, since camera frames arrive decoded).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { datasetsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline, type LandmarkerId } from '../src/vision/pipeline.js';
import type { RawImage } from '../src/vision/types.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: path.join(datasetsDir(), 'lfw-dev') },
    n: { type: 'string', default: '200' },
    threads: { type: 'string' },
    landmarker: { type: 'string', default: 'blazeface' },
    detector: { type: 'string', default: 'front' },
    embedders: { type: 'string', default: 'face-api' },
    flip: { type: 'boolean', default: false },
    cropped: { type: 'boolean', default: false },
  },
});

function files(dir: string): string[] {
  const out: string[] = [];
  for (const id of fs.readdirSync(dir).sort()) {
    const d = path.join(dir, id);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d).sort()) out.push(path.join(d, f));
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

const all = files(values.dataset);
const n = Math.min(Number(values.n), all.length);
// Spread the sample over identities rather than taking the first few people.
const pick = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
const t0 = performance.now();
const pipe = await FacePipeline.load({
  embedders: values.embedders.split(',').filter(Boolean),
  landmarker: values.landmarker as LandmarkerId,
  detector: values.detector as 'front' | 'back',
  flipTTA: values.flip,
  ...(values.threads ? { intraOpThreads: Number(values.threads) } : {}),
});
const loadMs = performance.now() - t0;
const rss = process.memoryUsage().rss / 2 ** 20;

const images: RawImage[] = [];
const decode: number[] = [];
for (const f of pick) {
  const t = performance.now();
  images.push(await decodeFile(f));
  decode.push(performance.now() - t);
}
// Warm-up: JIT and ORT first-run allocations.
for (const img of images.slice(0, 10)) await pipe.analyze(img, { cropped: values.cropped, maxFaces: 1 });

const stages: Record<string, number[]> = { detect: [], landmarks: [], align: [], frame: [] };
const cpu: Record<string, number[]> = {};
let faces = 0;
for (const img of images) {
  const r = await pipe.analyze(img, { cropped: values.cropped, maxFaces: 1 });
  faces += r.faces.length;
  stages.detect!.push(r.timings.detect);
  stages.landmarks!.push(r.timings.landmarks);
  stages.align!.push(r.timings.align);
  for (const [id, ms] of Object.entries(r.timings.embed)) (stages[`embed:${id}`] ??= []).push(ms);
  stages.frame!.push(r.timings.total);
  const c = r.timings.cpu;
  for (const [k, v] of [
    ['detect', c.detect],
    ['landmarks', c.landmarks],
    ['align', c.align],
    ...Object.entries(c.embed).map(([id, ms]) => [`embed:${id}`, ms] as const),
    ['frame', c.total],
  ] as const) {
    (cpu[k] ??= []).push(v);
  }
}
await pipe.close();
console.log(
  `images ${n} from ${values.dataset}, faces ${faces}; landmarker ${values.landmarker}, detector ${values.detector}, ` +
    `embedders ${values.embedders}${values.flip ? ' +flip' : ''}, threads ${values.threads ?? 'default'}`,
);
console.log(`models loaded in ${loadMs.toFixed(0)} ms, RSS after load ${rss.toFixed(0)} MB`);
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${os.cpus().length} CPUs; cpu = process CPU time, all threads`,
);
console.log('stage              wall p50  wall p95   cpu p50   cpu p95');
const f = (x: number): string => x.toFixed(2).padStart(9);
for (const [k, xs] of [['decode', decode] as const, ...Object.entries(stages)]) {
  const c = cpu[k];
  console.log(`${k.padEnd(18)}${f(pct(xs, 0.5))} ${f(pct(xs, 0.95))} ${c ? `${f(pct(c, 0.5))} ${f(pct(c, 0.95))}` : ''}`);
}
