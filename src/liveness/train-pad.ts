#!/usr/bin/env node
/**
 * `npm run train:pad`: trains the PAD classifier on nuaa-dev (or --dataset DIR) and writes trained/pad.onnx and
 * calibration/pad.json. Deterministic: no randomness in the fit, fixed ONNX Runtime thread count for the face
 * pipeline, so a rerun on the same data gives byte-identical files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { datasetsDir } from '../paths.js';
import { extractPadFeatures, listPadDataset, loadPadPipeline } from './pad-dataset.js';
import { PAD_FEATURES } from './pad-features.js';
import { defaultPadCalibrationPath, defaultPadModelPath } from './pad-model.js';
import { buildPadArtifacts, padCalibrationText } from './pad-train.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
  return v;
}

async function main(): Promise<void> {
  const dataset = path.resolve(arg('--dataset') ?? path.join(datasetsDir(), 'nuaa-dev'));
  const modelOut = path.resolve(arg('--model-out') ?? defaultPadModelPath());
  const calOut = path.resolve(arg('--calibration-out') ?? defaultPadCalibrationPath());
  // Two threads: the machine this is specified for has two cores, and a fixed count keeps runs comparable.
  const threads = Number(arg('--threads') ?? 2);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new Error('--threads must be an integer 1..64');

  const frames = listPadDataset(dataset);
  process.stderr.write(`train:pad: ${frames.length} frames from ${dataset}\n`);
  const pipeline = await loadPadPipeline({ intraOpThreads: threads });
  let features;
  try {
    let last = 0;
    features = await extractPadFeatures(frames, pipeline, {
      config: PAD_FEATURES,
      onProgress: (done, total) => {
        if (done === total || done - last >= 100) {
          last = done;
          process.stderr.write(`\r  faces and features ${done}/${total}`);
        }
      },
    });
    process.stderr.write('\n');
  } finally {
    await pipeline.close();
  }
  const artifacts = buildPadArtifacts(frames, features, {
    config: PAD_FEATURES,
    datasetName: path.basename(dataset),
  });
  fs.mkdirSync(path.dirname(modelOut), { recursive: true });
  fs.mkdirSync(path.dirname(calOut), { recursive: true });
  fs.writeFileSync(modelOut, artifacts.onnx);
  fs.writeFileSync(calOut, padCalibrationText(artifacts));
  const c = artifacts.calibration;
  const pct = (v: number | null): string => (v === null ? '   -' : `${(100 * v).toFixed(1).padStart(5)} %`);
  process.stdout.write(`LOSO folds (threshold ${c.threshold.toFixed(4)}, per frame):\n  subject  live attack  BPCER    APCER    EER\n`);
  for (const f of c.loso.folds) {
    process.stdout.write(
      `  ${f.subject.padEnd(7)} ${String(f.live).padStart(5)} ${String(f.attack).padStart(6)}  ${pct(f.bpcer)}  ${pct(f.apcer)}  ${pct(f.eer)}\n`,
    );
  }
  const fr = c.loso.frames;
  process.stdout.write(
    `pooled: BPCER ${pct(fr.bpcer)}, APCER ${Object.entries(fr.apcer)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}, EER ${pct(fr.eer)}, ` + `APCER at BPCER 1 % ${pct(fr.apcer_at_bpcer['0.01'])}, at 5 % ${pct(fr.apcer_at_bpcer['0.05'])}\n`,
  );
  process.stdout.write(`wrote ${modelOut} (${artifacts.onnx.length} bytes, sha256 ${c.model_sha256}) and ${calOut}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`train:pad: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
