/**
 * `npm run bench:pad [-- --frames N --threads T --json]`: the cost of the single-frame PAD stage per frame (crop,
 * colour-texture features, ONNX model), on nuaa-dev frames whose face the pipeline found beforehand (detection and
 * landmarks are the recognition pipeline's cost, not this stage's). Prints wall ms p50/p95 and CPU ms per frame.
 */
import path from 'node:path';
import { timingSummary } from '../src/eval/metrics.js';
import { datasetsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { findPadFaces, listPadDataset, loadPadPipeline } from '../src/liveness/pad-dataset.js';
import { PadModel } from '../src/liveness/pad-model.js';
import { padCrop, padFeaturesFromCrop } from '../src/liveness/pad-features.js';
import type { PadInput } from '../src/liveness/pad-features.js';
import os from 'node:os';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

const json = process.argv.includes('--json');
const nFrames = arg('--frames', 60);
const threads = arg('--threads', 2);
const root = path.join(datasetsDir(), 'nuaa-dev');
const all = listPadDataset(root);
// An even spread over classes and subjects.
const step = Math.max(1, Math.floor(all.length / nFrames));
const frames = all.filter((_, i) => i % step === 0).slice(0, nFrames);
const pipeline = await loadPadPipeline({ intraOpThreads: threads });
const faces = await findPadFaces(frames, pipeline);
await pipeline.close();
const inputs: PadInput[] = [];
for (const [i, f] of frames.entries()) {
  const face = faces[i];
  if (face) inputs.push({ image: await decodeFile(f.path), ...face });
}
const model = await PadModel.load({ intraOpThreads: threads });
for (const x of inputs.slice(0, 5)) await model.score(x); // warm-up

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const wall: number[] = [];
const cpu: number[] = [];
const crop: number[] = [];
const feat: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  for (const x of inputs) {
    const w0 = performance.now();
    const c0 = cpuMs();
    await model.score(x);
    wall.push(performance.now() - w0);
    cpu.push(cpuMs() - c0);
    const t0 = performance.now();
    const c = padCrop(x);
    const t1 = performance.now();
    padFeaturesFromCrop(c);
    crop.push(t1 - t0);
    feat.push(performance.now() - t1);
  }
}
await model.close();
const w = timingSummary(wall);
const c = timingSummary(cpu);
const out = {
  frames: inputs.length,
  repeats: 3,
  threads,
  ms_per_frame_p50: w.p50,
  ms_per_frame_p95: w.p95,
  cpu_ms_per_frame_p50: c.p50,
  cpu_ms_per_frame_mean: cpu.reduce((a, b) => a + b, 0) / cpu.length,
  crop_ms_p50: timingSummary(crop).p50,
  features_ms_p50: timingSummary(feat).p50,
  loadavg_1m: os.loadavg()[0] ?? NaN,
};
if (json) console.log(JSON.stringify(out));
else {
  console.log(`PAD stage on ${out.frames} nuaa-dev frames × ${out.repeats}, ${threads} ORT threads (load average ${out.loadavg_1m.toFixed(2)}):`);
  console.log(`  wall ms/frame p50 ${out.ms_per_frame_p50.toFixed(2)}, p95 ${out.ms_per_frame_p95.toFixed(2)}`);
  console.log(`  CPU ms/frame p50 ${out.cpu_ms_per_frame_p50.toFixed(2)}, mean ${out.cpu_ms_per_frame_mean.toFixed(2)}`);
  console.log(`  of which crop p50 ${out.crop_ms_p50.toFixed(2)} ms, features p50 ${out.features_ms_p50.toFixed(2)} ms`);
}
