#!/usr/bin/env node
/**
 * Per Human model: tfjs -> ONNX conversion time, ONNX size, and inference time on ONNX Runtime (1 intra-op
 * thread and ORT's default) next to TensorFlow.js on its CPU backend (the parity reference; tfjs-node does not
 * install here, so this is not tfjs's fastest backend).
 *
 *   node dist/bench/tfjs-models.js [--runs 30] [--ref-runs 5] [--json] [model ...]
 *
 * Inputs are deterministic synthetic images in the range each model expects; the timings do not depend on
 * content. Prints medians (and ORT p95) in milliseconds.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HUMAN_PKG } from '../src/models/sources.js';
import { LoadedModel } from '../src/models/session.js';
import { loadSources } from '../src/models/build/fetch.js';
import { convertTfjsGraph } from '../src/models/tfjs/convert.js';
import { HUMAN_MODELS, type HumanModel } from '../src/models/tfjs/human.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { loadReference, runReference } from '../test/helpers/tfjs-reference.js';

interface Row {
  model: string;
  convert_ms: number;
  onnx_mb: number;
  ort_1thread_ms_p50: number;
  ort_1thread_ms_p95: number;
  /** CPU time per call with 1 thread: robust to other load on a shared machine. */
  ort_1thread_cpu_ms_p50: number;
  ort_default_ms_p50: number;
  tfjs_cpu_ms_p50: number;
  speedup_1thread: number;
}

function quantile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

/** Wall times of `runs` calls after `warmup`; `cpu` collects this process's CPU ms per call (all threads). */
async function timeIt(runs: number, warmup: number, fn: () => Promise<unknown>, cpu: number[] = []): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return ms;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`);
  return v;
}

async function main(): Promise<void> {
  const runs = arg('--runs', 30);
  const refRuns = arg('--ref-runs', 5);
  const json = process.argv.includes('--json');
  const named = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--r'));
  const models = named.length ? named : [...HUMAN_MODELS];
  for (const m of models) if (!(HUMAN_MODELS as readonly string[]).includes(m)) throw new Error(`unknown model ${m}; one of ${HUMAN_MODELS.join(', ')}`);

  const files = loadSources(HUMAN_PKG, path.join(PACKAGE_ROOT, '.cache', 'packages'));
  const read = (p: string): Uint8Array => {
    const d = files[p];
    if (!d) throw new Error(`missing ${p}`);
    return d;
  };
  const rows: Row[] = [];
  for (const model of models as HumanModel[]) {
    const jsonBytes = read(`${model}.json`);
    const convTimes: number[] = [];
    let res = convertTfjsGraph(jsonBytes, read, { name: model });
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      res = convertTfjsGraph(jsonBytes, read, { name: model });
      convTimes.push(performance.now() - t0);
    }
    const input = res.inputs[0] as { name: string; shape: readonly (number | string)[] };
    const shape = input.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = model === 'faceres' ? 255 : 1;
    const x = Float32Array.from({ length: n }, (_, i) => scale * (0.5 + 0.5 * Math.sin(i * 0.0137)));
    const feeds = { [input.name]: { data: x, dims: shape } };

    const one = await LoadedModel.fromBytes(model, res.onnx, { intraOpThreads: 1 });
    const cpu1: number[] = [];
    const t1 = await timeIt(runs, 5, () => one.run(feeds), cpu1);
    await one.release();
    const dflt = await LoadedModel.fromBytes(model, res.onnx);
    const td = await timeIt(runs, 5, () => dflt.run(feeds));
    await dflt.release();

    const ref = await loadReference(jsonBytes, read);
    const outs = res.outputs.map((o) => o.name);
    const sig = JSON.parse(new TextDecoder().decode(jsonBytes)) as {
      signature?: { outputs?: Record<string, { name: string }> };
      userDefinedMetadata?: { signature?: { outputs?: Record<string, { name: string }> } };
    };
    const sigOut = sig.signature?.outputs ?? sig.userDefinedMetadata?.signature?.outputs ?? {};
    const refNames = outs.map((k) => (sigOut[k]?.name ?? k).replace(/:0$/, ''));
    const tr = await timeIt(refRuns, 1, () => runReference(ref, x, shape, refNames));
    ref.dispose();

    const row: Row = {
      model: `human-${model}`,
      convert_ms: Math.round(quantile(convTimes, 0.5)),
      onnx_mb: Number((res.onnx.length / 1e6).toFixed(2)),
      ort_1thread_ms_p50: Number(quantile(t1, 0.5).toFixed(2)),
      ort_1thread_ms_p95: Number(quantile(t1, 0.95).toFixed(2)),
      ort_1thread_cpu_ms_p50: Number(quantile(cpu1, 0.5).toFixed(2)),
      ort_default_ms_p50: Number(quantile(td, 0.5).toFixed(2)),
      tfjs_cpu_ms_p50: Number(quantile(tr, 0.5).toFixed(1)),
      speedup_1thread: Number((quantile(tr, 0.5) / quantile(t1, 0.5)).toFixed(1)),
    };
    rows.push(row);
    if (!json) {
      console.log(
        `${row.model.padEnd(16)} convert ${String(row.convert_ms).padStart(5)} ms  onnx ${row.onnx_mb.toFixed(2).padStart(6)} MB  ` +
          `ORT 1 thread p50 ${row.ort_1thread_ms_p50.toFixed(2).padStart(7)} ms (p95 ${row.ort_1thread_ms_p95.toFixed(2)}, cpu ${row.ort_1thread_cpu_ms_p50.toFixed(2)})  ORT default p50 ${row.ort_default_ms_p50.toFixed(2).padStart(7)} ms  ` +
          `tfjs-cpu p50 ${row.tfjs_cpu_ms_p50.toFixed(1).padStart(7)} ms  (${row.speedup_1thread}x)`,
      );
    }
  }
  if (json) console.log(JSON.stringify({ cpus: os.cpus().length, runs, rows }, null, 2));
}

main().catch((err: unknown) => {
  console.error(`tfjs-models bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
