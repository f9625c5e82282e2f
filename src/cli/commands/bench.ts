import fs from 'node:fs';
import type { Command } from 'commander';
import { listDataset, type Dataset } from '../../eval/dataset.js';
import { timingSummary } from '../../eval/metrics.js';
import { FaceApiPipelineReference } from '../../eval/bench-reference.js';
import { FacePipeline } from '../../vision/pipeline.js';
import { decodeImage } from '../../vision/decode.js';
import type { RawImage } from '../../vision/types.js';
import { DEFAULT_EVAL } from './eval.js';

interface BenchCliOptions {
  dataset: string;
  json?: boolean;
  limit: number;
  cropped?: boolean;
  reference: boolean;
}

type Summary = { p50: number; p95: number; n: number };

interface RunResult {
  threads: string;
  flip_tta: boolean;
  load_ms: number;
  frame_ms_p50: number;
  frame_ms_p95: number;
  /** CPU time of this process per frame (all threads): steadier than wall time on a loaded machine. */
  frame_cpu_ms_p50: number;
  faces_found: number;
  stages: Record<string, Summary>;
}

const WARMUP = 3;
const round = (x: number): number => Math.round(x * 100) / 100;

function roundSummary(s: Summary): Summary {
  return { p50: round(s.p50), p95: round(s.p95), n: s.n };
}

/** Up to `limit` images spread evenly over the dataset (every k-th), so every kind of face is represented. */
function pickImages(ds: Dataset, limit: number): string[] {
  const all = ds.images.map((i) => i.path);
  if (all.length <= limit) return all;
  const step = all.length / limit;
  return Array.from({ length: limit }, (_, i) => all[Math.floor(i * step)]!);
}

function rssMb(): number {
  return round(process.memoryUsage().rss / (1024 * 1024));
}

async function runOurs(
  files: readonly Uint8Array[],
  threads: number | undefined,
  flip: boolean,
  cropped: boolean,
  onLoaded?: (p: FacePipeline) => void,
  collect?: RawImage[],
): Promise<RunResult> {
  const t0 = performance.now();
  const pipeline = await FacePipeline.load({
    embedders: [DEFAULT_EVAL.model],
    landmarker: DEFAULT_EVAL.landmarker,
    flipTTA: flip,
    ...(threads !== undefined ? { intraOpThreads: threads } : {}),
  });
  const loadMs = performance.now() - t0;
  onLoaded?.(pipeline);
  try {
    const stages: Record<string, number[]> = { decode: [], detect: [], landmarks: [], align: [] };
    const frame: number[] = [];
    const cpu: number[] = [];
    let faces = 0;
    for (let i = 0; i < files.length + WARMUP; i++) {
      const bytes = files[i < WARMUP ? i % files.length : i - WARMUP]!;
      const td = performance.now();
      const img = await decodeImage(bytes);
      const decode = performance.now() - td;
      const c0 = process.cpuUsage();
      const r = await pipeline.analyze(img, { cropped, maxFaces: 1 });
      const c = process.cpuUsage(c0);
      if (i < WARMUP) continue;
      cpu.push((c.user + c.system) / 1000);
      if (r.faces.length) faces++;
      const chip = r.faces[0]?.chips[DEFAULT_EVAL.model];
      if (collect && chip) collect.push(chip);
      stages.decode!.push(decode);
      stages.detect!.push(r.timings.detect);
      stages.landmarks!.push(r.timings.landmarks);
      stages.align!.push(r.timings.align);
      for (const [id, ms] of Object.entries(r.timings.embed)) (stages[`embed:${id}`] ??= []).push(ms);
      // A camera frame arrives decoded: the frame time is detect + landmarks + align + embed.
      frame.push(r.timings.total);
    }
    const f = timingSummary(frame);
    return {
      threads: threads === undefined ? 'default' : String(threads),
      flip_tta: flip,
      load_ms: round(loadMs),
      frame_ms_p50: round(f.p50),
      frame_ms_p95: round(f.p95),
      frame_cpu_ms_p50: round(timingSummary(cpu).p50),
      faces_found: faces,
      stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, roundSummary(timingSummary(v))])),
    };
  } finally {
    await pipeline.close();
  }
}

type TimedSummary = Summary & { cpu_p50: number };

async function timeEach<T>(items: readonly T[], fn: (x: T, measured: boolean) => Promise<unknown>, warmup = 2): Promise<TimedSummary> {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < items.length + warmup; i++) {
    const x = items[i < warmup ? i % items.length : i - warmup]!;
    const c0 = process.cpuUsage();
    const t = performance.now();
    await fn(x, i >= warmup);
    if (i >= warmup) {
      ms.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { ...roundSummary(timingSummary(ms)), cpu_p50: round(timingSummary(cpu).p50) };
}

async function runBench(opts: BenchCliOptions): Promise<void> {
  const ds = listDataset(opts.dataset);
  const paths = pickImages(ds, opts.limit);
  const files = paths.map((p) => new Uint8Array(fs.readFileSync(p)));
  const cropped = Boolean(opts.cropped);
  const log = (s: string): void => {
    if (!opts.json) process.stderr.write(`${s}\n`);
  };
  log(`bench: ${files.length} images from ${opts.dataset}`);

  let rss = 0;
  const chips: RawImage[] = [];
  let oursEmbedder: TimedSummary | undefined;
  const main = await runOurs(
    files,
    undefined,
    DEFAULT_EVAL.flip,
    cropped,
    () => {
      rss = rssMb();
    },
    chips,
  );
  log(`ours (default threads, flip ${DEFAULT_EVAL.flip}): ${main.frame_ms_p50} ms median`);
  const single = await runOurs(files, 1, DEFAULT_EVAL.flip, cropped);
  log(`ours (1 thread): ${single.frame_ms_p50} ms median`);
  const noTta = await runOurs(files, undefined, !DEFAULT_EVAL.flip, cropped);
  log(`ours (default threads, flip ${!DEFAULT_EVAL.flip}): ${noTta.frame_ms_p50} ms median`);

  // FaceRecognitionNet alone on ONNX Runtime, same chips as the reference gets below.
  {
    const p = await FacePipeline.load({ embedders: [DEFAULT_EVAL.model], landmarker: DEFAULT_EVAL.landmarker, flipTTA: false });
    try {
      const e = p.embedders[0]!;
      oursEmbedder = chips.length ? await timeEach(chips, (c) => e.embed(c)) : undefined;
    } finally {
      await p.close();
    }
  }

  const result: Record<string, unknown> = {
    dataset: opts.dataset,
    images: files.length,
    settings: { model: DEFAULT_EVAL.model, landmarker: DEFAULT_EVAL.landmarker, flip_tta: DEFAULT_EVAL.flip, cropped },
    frame_ms_p50: main.frame_ms_p50,
    frame_ms_p95: main.frame_ms_p95,
    stages: main.stages,
    rss_mb: rss,
    threads: { default: main, '1': single },
    [DEFAULT_EVAL.flip ? 'without_flip_tta' : 'with_flip_tta']: noTta,
    embedder_ms: oursEmbedder ?? null,
  };

  if (opts.reference) {
    const t0 = performance.now();
    const ref = await FaceApiPipelineReference.load();
    const loadMs = performance.now() - t0;
    try {
      const decoded: RawImage[] = [];
      for (const f of files) decoded.push(await decodeImage(f));
      let found = 0;
      const frame = await timeEach(decoded, async (img, measured) => {
        if ((await ref.frame(img)) && measured) found++;
      });
      const desc = chips.length ? await timeEach(chips, (c) => ref.descriptor(c)) : undefined;
      result.reference = {
        pipeline: 'face-api.js 1.7.15 (@vladmandic/face-api) SsdMobilenetv1 + FaceLandmark68Net + FaceRecognitionNet',
        backend: `tfjs-${ref.backend}`,
        load_ms: round(loadMs),
        frame_ms_p50: frame.p50,
        frame_ms_p95: frame.p95,
        frame_cpu_ms_p50: frame.cpu_p50,
        embedder_ms: desc ?? null,
        faces_found: found,
      };
      result.speedup = round(frame.p50 / main.frame_ms_p50);
      result.speedup_without_flip_tta = DEFAULT_EVAL.flip ? round(frame.p50 / noTta.frame_ms_p50) : undefined;
      result.embedder_speedup = desc && oursEmbedder ? round(desc.p50 / oursEmbedder.p50) : null;
      // The same ratios in CPU time, which other load on a shared machine disturbs less than wall time.
      result.speedup_cpu = round(frame.cpu_p50 / main.frame_cpu_ms_p50);
      result.embedder_speedup_cpu = desc && oursEmbedder ? round(desc.cpu_p50 / oursEmbedder.cpu_p50) : null;
    } finally {
      ref.dispose();
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${formatBench(result)}\n`);
}

function formatBench(r: Record<string, unknown>): string {
  const lines: string[] = [];
  const stagesLine = (stages: Record<string, Summary>): string =>
    Object.entries(stages)
      .map(([k, v]) => `${k} ${v.p50}/${v.p95}`)
      .join(', ');
  const threads = r.threads as Record<string, RunResult>;
  lines.push(`images: ${String(r.images)}   RSS after models load: ${String(r.rss_mb)} MB`);
  for (const run of [threads.default!, threads['1']!, (r.without_flip_tta ?? r.with_flip_tta) as RunResult]) {
    lines.push(
      `ours, threads ${run.threads}, flip TTA ${run.flip_tta}: frame ${run.frame_ms_p50} ms median, ${run.frame_ms_p95} ms p95, CPU ${run.frame_cpu_ms_p50} ms median`,
    );
    lines.push(`  stages (median/p95 ms): ${stagesLine(run.stages)}`);
  }
  const e = r.embedder_ms as TimedSummary | null;
  if (e) lines.push(`FaceRecognitionNet alone on ONNX Runtime: ${e.p50} ms median, CPU ${e.cpu_p50} ms`);
  const ref = r.reference as
    | { frame_ms_p50: number; frame_ms_p95: number; frame_cpu_ms_p50: number; embedder_ms: TimedSummary | null; backend: string }
    | undefined;
  if (ref) {
    lines.push(
      `reference face-api.js on ${ref.backend}: frame ${ref.frame_ms_p50} ms median, ${ref.frame_ms_p95} ms p95, CPU ${ref.frame_cpu_ms_p50} ms median`,
    );
    if (ref.embedder_ms) lines.push(`  FaceRecognitionNet alone: ${ref.embedder_ms.p50} ms median, CPU ${ref.embedder_ms.cpu_p50} ms`);
    lines.push(`speedup (whole frame): ${String(r.speedup)}× wall, ${String(r.speedup_cpu)}× CPU`);
    lines.push(`embedder speedup: ${String(r.embedder_speedup)}× wall, ${String(r.embedder_speedup_cpu)}× CPU`);
  }
  return lines.join('\n');
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error('--limit must be a positive integer');
  return n;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time every pipeline stage on a dataset, and face-api.js on tfjs-wasm as the reference')
    .requiredOption('--dataset <dir>', 'dataset root: one folder per person')
    .option('--json', 'print the result as JSON (keys in docs/eval.md)')
    .option('--limit <n>', 'images to time, spread over the dataset', positiveInt, 40)
    .option('--cropped', 'images are tight face crops: skip detection')
    .option('--no-reference', 'skip the face-api.js reference run')
    .action(async (opts: BenchCliOptions) => {
      await runBench(opts);
    });
}
