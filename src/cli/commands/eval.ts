import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { listDataset, limitDataset } from '../../eval/dataset.js';
import { EmbeddingCache } from '../../eval/embeddings.js';
import { FUSION, evaluateDataset, evaluateLfw, rocSeries, type EvalOutput, type EvalReport, type EvalSettings } from '../../eval/evaluate.js';
import { readLfwPairs } from '../../eval/lfw-pairs.js';
import { summariseAttempts, type AttemptSummary } from '../../eval/attempts.js';
import { countAbove, operatingPoint, sortDescending } from '../../eval/metrics.js';
import { defaultConfig } from '../../config/config.js';
import type { AttemptRule } from '../../match/attempt-rule.js';
import { pipelineSource } from '../../eval/pipeline-source.js';
import { rocSvg } from '../../eval/roc-svg.js';
import {
  CALIBRATION_FARS,
  calibrationDir,
  farKey,
  loadCalibration,
  thresholdFromTable,
  mergeCalibration,
  validateCalibration,
  type CalibrationScoring,
  type CalibrationTable,
} from '../../match/calibration.js';
import type { Aggregation } from '../../match/templates.js';
import { FacePipeline, type LandmarkerId } from '../../vision/pipeline.js';
import { datasetsDir } from '../../paths.js';

/** The settings facegate ships with (docs/accuracy.md says why); the calibration tables are measured with them. */
export const DEFAULT_EVAL = {
  model: 'face-api',
  aggregation: 'mean' as Aggregation,
  gallery: 5,
  landmarker: '68' as LandmarkerId,
  flip: true,
};

interface EvalCliOptions {
  dataset: string;
  model: string;
  cropped?: boolean;
  pairs?: string;
  json?: boolean;
  plot?: string;
  aggregation: Aggregation;
  k: number;
  gallery: number;
  landmarker: LandmarkerId;
  flip: boolean;
  threads?: number;
  identities?: number;
  limit?: number;
  perIdentity?: number;
  fusionWeight: number;
  writeCalibration?: string;
  sequences?: boolean;
  attemptFrames?: number;
}

/**
 * Frames the daemon scores in one attempt by default: verify.timeout at the camera's usual 30 fps. Datasets have
 * far fewer images per person, so attempts are capped by what each identity has (reported as
 * frames_genuine_max / frames_impostor_max).
 */
export function defaultAttemptFrames(): number {
  return Math.round(defaultConfig().verify.timeout * CAMERA_FPS);
}
const CAMERA_FPS = 30;
/** Window sizes reported besides the default. */
const EXTRA_ATTEMPT_FRAMES = [5, 10];

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function weight(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be between 0 and 1');
  return n;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)} %`);
const num = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toFixed(4));
const sci = (x: number): string => (Number.isNaN(x) ? 'n/a' : x === 0 ? '0' : x.toExponential(2));

export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`dataset ${r.dataset}  model ${r.model}  ${JSON.stringify(r.settings)}`);
  lines.push(`images ${r.images}, faces found ${r.faces_found}, no face ${r.no_face.length}, undecodable ${r.undecodable.length}`);
  for (const f of r.no_face) lines.push(`  no face: ${f}`);
  for (const u of r.undecodable) lines.push(`  undecodable: ${u.file}: ${u.error}`);
  if (r.pairs) {
    const p = r.pairs;
    lines.push(`pairs: ${p.genuine} genuine, ${p.impostor} impostor, EER ${pct(p.eer)}`);
    for (const [k, tar] of Object.entries(p.tar_at_far)) {
      lines.push(`  FAR ${k}: TAR ${pct(tar)}  threshold ${num(p.threshold_at_far[k as keyof typeof p.threshold_at_far])}`);
    }
  }
  if (r.unlock) {
    const u = r.unlock;
    lines.push(`unlock: ${u.genuine} genuine attempts, ${u.impostor} impostor attempts, EER ${pct(u.eer)}`);
    for (const [k, frr] of Object.entries(u.frr_at_far)) {
      const key = k as keyof typeof u.frr_at_far;
      lines.push(
        frr === null
          ? `  FAR ${k}: not resolvable with ${u.impostor} impostor attempts`
          : `  FAR ${k}: FRR ${pct(frr)} (${u.false_rejects_at_far[key]}/${u.genuine} rejected, ${u.false_accepts_at_far[key]} false accepts)  threshold ${num(u.threshold_at_far[key])}`,
      );
    }
  }
  if (r.calibrated) {
    for (const [k, c] of Object.entries(r.calibrated.at_far)) {
      lines.push(
        `  shipped threshold for FAR ${k} (${num(c.threshold)}): FRR ${pct(c.frr)} (${c.false_rejects} rejected), FAR ${pct(c.far)} (${c.false_accepts} accepted)`,
      );
    }
  }
  if (r.pairs?.shipped) {
    const p = r.pairs.shipped;
    lines.push(`pairs at the shipped threshold ${num(p.threshold)}: FAR ${sci(p.far)} (${p.false_accepts}), FRR ${pct(p.frr)} (${p.false_rejects})`);
  }
  const attempts = [...(r.unlock?.attempt ? [r.unlock.attempt] : []), ...Object.values(r.unlock?.attempt_frames ?? {})];
  for (const a of attempts) {
    lines.push(
      `attempts of ${a.frames} frames (at most ${a.frames_genuine_max} genuine / ${a.frames_impostor_max} impostor in this data), ${a.rule} at ${num(a.threshold)}: ` +
        `FRR ${pct(a.frr)} (${a.false_rejects}/${a.genuine}), FAR ${sci(a.far)} (${a.false_accepts}/${a.impostor}, 95 % upper bound ${sci(a.far_upper95)})`,
    );
  }
  if (r.lfw) {
    lines.push(`lfw: ${r.lfw.pairs} pairs, ${r.lfw.folds.length}-fold accuracy ${pct(r.lfw.accuracy)} ± ${pct(r.lfw.std)}`);
    if (r.lfw.missing.length) lines.push(`  ${r.lfw.missing.length} images named in the pairs file are missing (their pairs count as "different")`);
  }
  return lines.join('\n');
}

/** The shared datasets are named as the docs name them (../shared/datasets/X from the project root). */
function displayDataset(dir: string): string {
  const rel = path.relative(datasetsDir(), path.resolve(dir));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? `../shared/datasets/${rel}` : dir;
}

/** Turns this run's unlock scores into a calibration source and merges it into FILE. */
function writeCalibration(file: string, out: EvalOutput, opts: EvalCliOptions, scoring: CalibrationScoring, sha: string | null): CalibrationTable {
  const u = out.scores.unlock;
  if (!u) throw new Error('--write-calibration needs the unlock protocol (not --pairs)');
  const g = sortDescending(u.genuine);
  const im = sortDescending(u.impostor);
  const thresholdsOf = (gen: Float64Array, imp: Float64Array): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const far of CALIBRATION_FARS) {
      const op = operatingPoint(gen, imp, far);
      if (op) out[farKey(far)] = op.threshold;
    }
    return out;
  };
  const thresholds = thresholdsOf(g, im);
  const p = out.scores.pairs;
  const pairsThresholds = p ? thresholdsOf(sortDescending(p.genuine), sortDescending(p.impostor)) : {};
  const command = [
    'facegate eval',
    `--dataset ${displayDataset(opts.dataset)}`,
    `--model ${opts.model}`,
    opts.cropped ? '--cropped' : '',
    opts.sequences ? '--sequences' : '',
    `--write-calibration ${path.relative(process.cwd(), path.resolve(file))}`,
  ]
    .filter(Boolean)
    .join(' ');
  let existing: CalibrationTable | null = null;
  if (fs.existsSync(file)) existing = validateCalibration(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  const table = mergeCalibration(
    existing,
    opts.model,
    sha,
    scoring,
    calibrationSourceName(opts.dataset),
    { protocol: 'unlock', genuine: g.length, impostor: im.length, thresholds, pairs_thresholds: pairsThresholds, command },
    shippedRule(),
  );
  fs.writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
  return table;
}

/** The rule the daemon decides with by default; calibration tables are written for it. */
function shippedRule(): AttemptRule {
  const v = defaultConfig().verify;
  return { kind: v.rule, frames: v.rule_frames };
}

/** `nuaa-dev/live` is named by both parts so it cannot collide with another dataset's `live` folder. */
function calibrationSourceName(dir: string): string {
  const abs = path.resolve(dir);
  const base = path.basename(abs);
  return base === 'live' || base === 'print' ? `${path.basename(path.dirname(abs))}/${base}` : base;
}

function scoringOf(opts: EvalCliOptions): CalibrationScoring {
  return {
    aggregation: opts.aggregation,
    ...(opts.aggregation === 'topk' ? { k: opts.k } : {}),
    gallery: opts.gallery,
    landmarker: opts.landmarker,
    flip_tta: opts.flip,
  };
}

/** Judges the unlock attempts with the shipped thresholds, if calibration/<model>.json matches these settings. */
function addCalibratedCheck(out: EvalOutput, opts: EvalCliOptions): void {
  const u = out.scores.unlock;
  if (!u || opts.model === FUSION) return;
  let table: CalibrationTable;
  try {
    table = loadCalibration(opts.model);
  } catch {
    return;
  }
  if (JSON.stringify(table.scoring) !== JSON.stringify(scoringOf(opts))) return;
  const g = sortDescending(u.genuine);
  const im = sortDescending(u.impostor);
  const atFar: NonNullable<EvalReport['calibrated']>['at_far'] = {};
  for (const far of [1e-3, 1e-4]) {
    let t: number;
    try {
      t = thresholdFromTable(table, far);
    } catch {
      continue;
    }
    const fa = countAbove(im, t);
    const ta = countAbove(g, t);
    atFar[farKey(far)] = { threshold: t, frr: (g.length - ta) / g.length, far: fa / im.length, false_rejects: g.length - ta, false_accepts: fa };
  }
  out.report.calibrated = { table: path.join(calibrationDir(), `${opts.model}.json`), at_far: atFar };
  addShipped(out, table);
}

/**
 * The shipped operating point: the table's threshold at the default verify.target_far with the shipped attempt
 * rule, applied to the pairs (per image) and to the attempt protocol.
 */
function addShipped(out: EvalOutput, table: CalibrationTable): void {
  let threshold: number;
  try {
    threshold = thresholdFromTable(table, defaultConfig().verify.target_far);
  } catch {
    return;
  }
  const rule = shippedRule();
  const p = out.scores.pairs;
  if (p && out.report.pairs) {
    const fa = countAbove(sortDescending(p.impostor), threshold);
    const ta = countAbove(sortDescending(p.genuine), threshold);
    out.report.pairs.shipped = {
      threshold,
      far: fa / p.impostor.length,
      frr: (p.genuine.length - ta) / p.genuine.length,
      false_accepts: fa,
      false_rejects: p.genuine.length - ta,
    };
  }
  const attempts = out.scores.attempts;
  if (!attempts || !out.report.unlock) return;
  const byFrames: Record<string, AttemptSummary> = {};
  for (const [w, sets] of attempts) {
    const s = summariseAttempts(sets, rule, threshold);
    if (w === defaultAttemptFramesFor(out)) out.report.unlock.attempt = s;
    else byFrames[String(w)] = s;
  }
  out.report.unlock.attempt_frames = byFrames;
}

function defaultAttemptFramesFor(out: EvalOutput): number {
  return [...(out.scores.attempts?.keys() ?? [])][0]!;
}

async function runEval(opts: EvalCliOptions): Promise<void> {
  if (opts.writeCalibration && opts.model === FUSION) throw new Error('--write-calibration is for a single model');
  const fusionModels: [string, string] = ['face-api', 'faceres'];
  const embedders = opts.model === FUSION ? [...fusionModels] : [opts.model];
  const settings: EvalSettings = {
    model: opts.model,
    aggregation: { aggregation: opts.aggregation, k: opts.k },
    gallery: opts.gallery,
    fusionModels,
    fusionWeight: opts.fusionWeight,
    sequences: Boolean(opts.sequences),
    // The first is the default W (unlock.attempt); the others are reported under unlock.attempt_frames.
    attemptFrames: [...new Set([opts.attemptFrames ?? defaultAttemptFrames(), ...EXTRA_ATTEMPT_FRAMES])],
  };
  const extra = { cropped: Boolean(opts.cropped), sequences: Boolean(opts.sequences), landmarker: opts.landmarker, flip_tta: opts.flip };
  // Validate the inputs before spending seconds loading models.
  const pairs = opts.pairs ? readLfwPairs(opts.pairs) : undefined;
  const ds = pairs ? undefined : limitDataset(listDataset(opts.dataset), opts.identities ?? opts.limit, opts.perIdentity);

  const pipeline = await FacePipeline.load({
    embedders,
    landmarker: opts.landmarker,
    flipTTA: opts.flip,
    ...(opts.threads !== undefined ? { intraOpThreads: opts.threads } : {}),
  });
  try {
    const cache = new EmbeddingCache(pipelineSource(pipeline, { cropped: Boolean(opts.cropped) }));
    const out = pairs
      ? await evaluateLfw(opts.dataset, pairs, cache, settings, extra, (p) => fs.existsSync(p))
      : await evaluateDataset(ds!, cache, settings, extra);
    if (opts.plot) {
      const series = rocSeries(out);
      if (series.length === 0) throw new Error('--plot needs the pairs/unlock protocols (not --pairs)');
      fs.writeFileSync(opts.plot, rocSvg(series, `ROC: ${path.basename(path.resolve(opts.dataset))}, ${opts.model}`));
    }
    addCalibratedCheck(out, opts);
    if (opts.writeCalibration) {
      const sha = pipeline.embedders.find((e) => e.id === opts.model)?.modelSha256 ?? null;
      writeCalibration(opts.writeCalibration, out, opts, scoringOf(opts), sha);
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(out.report, null, 2)}\n`);
    else process.stdout.write(`${formatReport(out.report)}\n`);
  } finally {
    await pipeline.close();
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('measure accuracy on a folder of <identity>/<image> (pairs, unlock and LFW 10-fold protocols)')
    .requiredOption('--dataset <dir>', 'dataset root: one folder per person')
    .addOption(new Option('--model <id>', 'embedder to score with').choices(['face-api', 'faceres', FUSION]).default(DEFAULT_EVAL.model))
    .option('--cropped', 'images are tight face crops (e.g. ORL): skip detection, still align')
    .option('--pairs <file>', 'LFW pairs.txt: score only its pairs, report 10-fold accuracy')
    .option('--json', 'print the report as JSON (keys in docs/eval.md)')
    .option('--plot <svg>', 'write the ROC curves as SVG')
    .addOption(new Option('--aggregation <how>', 'templates → one score').choices(['mean', 'max', 'topk']).default(DEFAULT_EVAL.aggregation))
    .option('--k <n>', 'k for --aggregation topk', positiveInt, 2)
    .option('--gallery <n>', 'unlock protocol: enrolled images per person', positiveInt, DEFAULT_EVAL.gallery)
    .addOption(new Option('--landmarker <id>', 'landmarks to align on').choices(['blazeface', '68', 'facemesh']).default(DEFAULT_EVAL.landmarker))
    .option('--no-flip', 'no flip test-time augmentation')
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt)
    .option('--identities <n>', 'only the first N people (quick runs)', positiveInt)
    .option('--limit <n>', 'same as --identities', positiveInt)
    .option('--per-identity <n>', 'only the first N images of each person', positiveInt)
    .option('--fusion-weight <w>', 'weight of face-api in --model fusion', weight, 0.5)
    .option('--write-calibration <file>', "add this dataset's unlock thresholds to a calibration table (JSON)")
    .option('--sequences', 'images are video frames named SEQUENCE-FRAME.ext: enrol from one recording, probe with the others')
    .option(
      '--attempt-frames <n>',
      `attempt protocol: frames per attempt (default ${defaultAttemptFrames()}: verify.timeout at ${CAMERA_FPS} fps)`,
      positiveInt,
    )
    .action(async (opts: EvalCliOptions) => {
      await runEval(opts);
    });
}
