import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { AGGREGATIONS, type AggregationOptions } from './templates.js';

/**
 * Calibration tables turn a target false-accept rate into a score threshold for one model. They ship in
 * calibration/<model>.json and are produced by `facegate eval ... --write-calibration FILE` (docs/accuracy.md).
 * Decision rule: accept iff score > threshold.
 */

/** FARs a calibration table records, when the impostor count can resolve them. */
export const CALIBRATION_FARS = [1e-2, 5e-3, 2e-3, 1e-3, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5] as const;

export interface CalibrationSource {
  /** Protocol the scores came from; "unlock" is one attempt against an enrolled user, which is what FAR means here. */
  protocol: string;
  genuine: number;
  impostor: number;
  /** FAR (as written, e.g. "1e-4") → threshold; only resolvable FARs appear. */
  thresholds: Record<string, number>;
  command: string;
}

/** How probes must be scored for the thresholds to hold: the settings the table was measured with. */
export interface CalibrationScoring extends AggregationOptions {
  gallery: number;
  [key: string]: unknown;
}

export interface CalibrationTable {
  model: string;
  model_sha256: string | null;
  rule: 'accept iff score > threshold';
  scoring: CalibrationScoring;
  /** Per dataset name. */
  sources: Record<string, CalibrationSource>;
  /** FAR → the highest threshold any source needs for it (fail closed across datasets). */
  thresholds: Record<string, number>;
}

export function farKey(far: number): string {
  return far.toExponential().replace('e+', 'e');
}

export function calibrationDir(): string {
  return process.env.FACEGATE_CALIBRATION_DIR ?? path.join(PACKAGE_ROOT, 'calibration');
}

function isRecordOfNumbers(v: unknown): v is Record<string, number> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Validates parsed JSON as a calibration table; throws with the reason otherwise. */
export function validateCalibration(v: unknown, source: string): CalibrationTable {
  const bad = (why: string): never => {
    throw new Error(`calibration ${source}: ${why}`);
  };
  if (typeof v !== 'object' || v === null) return bad('not an object');
  const o = v as Record<string, unknown>;
  if (typeof o.model !== 'string') bad('missing "model"');
  if (o.model_sha256 !== null && typeof o.model_sha256 !== 'string') bad('"model_sha256" must be a string or null');
  if (o.rule !== 'accept iff score > threshold') bad('unknown decision rule');
  const sc = o.scoring as Record<string, unknown> | undefined;
  if (!sc || !AGGREGATIONS.includes(sc.aggregation as never)) bad('"scoring.aggregation" missing or unknown');
  if (!sc || typeof sc.gallery !== 'number') bad('"scoring.gallery" missing');
  if (!isRecordOfNumbers(o.thresholds) || Object.keys(o.thresholds).length === 0) bad('"thresholds" must map FAR to a number');
  for (const k of Object.keys(o.thresholds as object)) {
    const f = Number(k);
    if (!(f > 0 && f < 1)) bad(`bad FAR key "${k}"`);
  }
  if (typeof o.sources !== 'object' || o.sources === null) bad('"sources" missing');
  return v as CalibrationTable;
}

const loaded = new Map<string, CalibrationTable>();

/** Loads calibration/<modelId>.json once per process. */
export function loadCalibration(modelId: string, dir = calibrationDir()): CalibrationTable {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(modelId)) throw new Error(`bad model id "${modelId}"`);
  const file = path.join(dir, `${modelId}.json`);
  const cached = loaded.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no calibration for model "${modelId}" (${file}); see docs/accuracy.md`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`calibration ${file}: ${(err as Error).message}`);
  }
  const table = validateCalibration(parsed, file);
  if (table.model !== modelId) throw new Error(`calibration ${file} is for model "${table.model}", not "${modelId}"`);
  loaded.set(file, table);
  return table;
}

/**
 * The score threshold for a target FAR per attempt. Between calibrated FARs the stricter (lower-FAR) threshold
 * is used; a FAR below the lowest calibrated one is refused, since nothing measured vouches for it. If
 * `modelSha256` is given it must match the model the table was made with.
 */
export function thresholdFor(
  modelId: string,
  far = 1e-4,
  opts: { dir?: string; modelSha256?: string } = {},
): number {
  const table = loadCalibration(modelId, opts.dir);
  if (opts.modelSha256 && table.model_sha256 && opts.modelSha256 !== table.model_sha256) {
    throw new Error(`calibration for "${modelId}" was made with another model file (${table.model_sha256.slice(0, 12)}…); recalibrate`);
  }
  return thresholdFromTable(table, far);
}

export function thresholdFromTable(table: CalibrationTable, far: number): number {
  if (!(far > 0 && far < 1)) throw new Error(`target FAR must be in (0, 1), got ${far}`);
  const points = Object.entries(table.thresholds)
    .map(([k, t]) => ({ far: Number(k), t }))
    .sort((a, b) => a.far - b.far);
  let chosen: number | undefined;
  for (const p of points) {
    if (p.far <= far * (1 + 1e-9)) chosen = p.t;
  }
  if (chosen === undefined) {
    throw new Error(`model "${table.model}" is calibrated down to FAR ${points[0]!.far}, not ${far}`);
  }
  return chosen;
}

/** The scoring settings a model's thresholds assume; the daemon must score probes this way. */
export function scoringFor(modelId: string, dir?: string): CalibrationScoring {
  return loadCalibration(modelId, dir).scoring;
}

/**
 * Adds or replaces one dataset's measurements in a table and recomputes the combined thresholds: for each FAR,
 * the highest threshold among the sources that resolve it.
 */
export function mergeCalibration(
  existing: CalibrationTable | null,
  model: string,
  modelSha256: string | null,
  scoring: CalibrationScoring,
  name: string,
  source: CalibrationSource,
): CalibrationTable {
  if (existing) {
    if (existing.model !== model) throw new Error(`calibration file is for model "${existing.model}", not "${model}"`);
    if (JSON.stringify(existing.scoring) !== JSON.stringify(scoring)) {
      throw new Error(
        `calibration file was measured with scoring ${JSON.stringify(existing.scoring)}, this run uses ${JSON.stringify(scoring)}; write a new file`,
      );
    }
    if (existing.model_sha256 && modelSha256 && existing.model_sha256 !== modelSha256) {
      throw new Error('calibration file was made with another model file; write a new file');
    }
  }
  const sources = { ...(existing?.sources ?? {}), [name]: source };
  const thresholds: Record<string, number> = {};
  for (const far of CALIBRATION_FARS) {
    const k = farKey(far);
    const ts = Object.values(sources)
      .map((s) => s.thresholds[k])
      .filter((t): t is number => typeof t === 'number');
    if (ts.length) thresholds[k] = Math.max(...ts);
  }
  return {
    model,
    model_sha256: modelSha256 ?? existing?.model_sha256 ?? null,
    rule: 'accept iff score > threshold',
    scoring,
    sources,
    thresholds,
  };
}
