#!/usr/bin/env node
/**
 * Times face-api's FaceRecognitionNet (and the 68-point landmark net) on ONNX Runtime, with 1 intra-op thread
 * and ORT's default, against face-api.js itself on tfjs-wasm, on the same inputs.
 *
 *   node dist/bench/embedder.js [--runs 50] [--json]
 *
 * Inputs: lfw-dev images (resized to the chip size) when the datasets are present, else synthetic images.
 * Prints the median and p95 wall time and the median process CPU time of `runs` calls after a warm-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { datasetsDir } from '../src/paths.js';
import { FaceRecNetEmbedder } from '../src/embed/facerecnet.js';
import { FaceApiLandmarker } from '../src/vision/landmarks68.js';
import { FaceApiReference } from '../src/models/faceapi/reference.js';
import type { Box, RawImage } from '../src/vision/types.js';

interface Stats {
  median: number;
  p95: number;
  /** Median CPU time of this process per call (all threads): robust to other load on a shared machine. */
  cpu_median: number;
}

function quantile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function time(runs: number, inputs: readonly RawImage[], fn: (img: RawImage) => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < 5; i++) await fn(inputs[i % inputs.length]!);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn(inputs[i % inputs.length]!);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { median: quantile(ms, 0.5), p95: quantile(ms, 0.95), cpu_median: quantile(cpu, 0.5) };
}

function synthetic(size: number, seed: number): RawImage {
  const data = new Uint8Array(size * size * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ((i % (size * 3)) / 3 + (s >>> 28)) & 255;
  }
  return { width: size, height: size, channels: 3, data };
}

async function inputs(size: number, count: number): Promise<{ images: RawImage[]; source: string }> {
  const dir = path.join(datasetsDir(), 'lfw-dev');
  if (!fs.existsSync(dir)) return { images: Array.from({ length: count }, (_, i) => synthetic(size, i + 1)), source: 'synthetic' };
  const images: RawImage[] = [];
  for (const person of fs.readdirSync(dir).sort().slice(0, count)) {
    const file = fs.readdirSync(path.join(dir, person)).sort()[0]!;
    const { data, info } = await sharp(path.join(dir, person, file))
      .removeAlpha()
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    images.push({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) });
  }
  return { images, source: dir };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsArg = args.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 50;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
  const json = args.includes('--json');

  const chips = await inputs(150, 10);
  const frames = await inputs(250, 10);
  // A box like a detector's around lfw-dev's centred faces (on synthetic frames it is just a region).
  const box: Box = { x: 66, y: 62, width: 118, height: 130 };
  const results: Record<string, Stats> = {};

  for (const threads of [1, undefined]) {
    const label = threads === undefined ? 'default' : `${threads}`;
    const emb = await FaceRecNetEmbedder.load(threads === undefined ? {} : { intraOpThreads: threads });
    results[`ort_embed_threads_${label}`] = await time(runs, chips.images, (c) => emb.embed(c));
    await emb.close();
    const lm = await FaceApiLandmarker.load(threads === undefined ? {} : { intraOpThreads: threads });
    results[`ort_landmarks_threads_${label}`] = await time(runs, frames.images, (f) => lm.detect(f, box));
    await lm.close();
  }

  const ref = await FaceApiReference.load('wasm');
  results.tfjs_wasm_embed = await time(runs, chips.images, (c) => ref.descriptor(c));
  results.tfjs_wasm_landmarks = await time(runs, frames.images, (f) => ref.landmarks(f, box, false));
  ref.dispose();

  const speedup = {
    embed_threads_1: results.tfjs_wasm_embed.median / results.ort_embed_threads_1!.median,
    embed_threads_default: results.tfjs_wasm_embed.median / results.ort_embed_threads_default!.median,
    embed_cpu_threads_1: results.tfjs_wasm_embed.cpu_median / results.ort_embed_threads_1!.cpu_median,
  };
  if (json) {
    console.log(JSON.stringify({ runs, inputs: chips.source, ms: results, speedup }, null, 2));
    return;
  }
  console.log(`face-api nets, ${runs} calls each, inputs: ${chips.source}`);
  console.log(`  ${'ms per call'.padEnd(30)} ${'median'.padStart(7)} ${'p95'.padStart(7)} ${'cpu'.padStart(7)}`);
  for (const [k, v] of Object.entries(results)) {
    console.log(`  ${k.padEnd(30)} ${v.median.toFixed(2).padStart(7)} ${v.p95.toFixed(2).padStart(7)} ${v.cpu_median.toFixed(2).padStart(7)}`);
  }
  console.log(
    `  embedder speed-up (tfjs-wasm / ORT): ${speedup.embed_threads_1.toFixed(2)}× at 1 thread, ${speedup.embed_threads_default.toFixed(2)}× at default threads (wall); ${speedup.embed_cpu_threads_1.toFixed(2)}× by CPU time at 1 thread`,
  );
  console.log('  cpu = median CPU time of the whole process per call (all threads); wall times suffer from other load');
  console.log("  tfjs_wasm_landmarks includes face-api's own crop, pad and resize on tfjs, as ort_landmarks includes ours");
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
