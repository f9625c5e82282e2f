import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { atLeastAsStrict, checkAttemptRule, describeRule, type AttemptRule } from './attempt-rule.js';
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
  /**
   * The same from the pairs protocol (every image against every image of another person). A population with few
   * people resolves its unlock tail poorly; its pairs tail is a second, more dispersed estimate, and the stricter
   * of the two is used.
   */
  pairs_thresholds?: Record<string, number>;
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
  /**
   * The attempt rule the thresholds are used with (src/match/attempt-rule.ts). A table without one was made for
   * the per-frame rule (any one frame above the threshold).
   */
  attempt_rule?: AttemptRule;
  /** Per dataset name. */
  sources: Record<string, CalibrationSource>;
  /**
   * FAR → the highest threshold any source needs for it (fail closed across datasets). A source that cannot
   * resolve a FAR still bounds it from below with its threshold at the smallest FAR it does resolve.
   */
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
  if (o.attempt_rule !== undefined) {
    try {
      checkAttemptRule(o.attempt_rule as AttemptRule);
    } catch (err) {
      bad(`"attempt_rule": ${(err as Error).message}`);
    }
  }
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
export function thresholdFor(modelId: string, far = 1e-4, opts: { dir?: string; modelSha256?: string } = {}): number {
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

/** The attempt rule a model's thresholds were calibrated for (tables without one: the per-frame rule). */
export function attemptRuleOf(table: CalibrationTable): AttemptRule {
  return table.attempt_rule ?? { kind: 'k-of', frames: 1 };
}

/**
 * The threshold and rule for a verification attempt. The configured rule may be stricter than the calibrated one
 * (fewer accepts at the same threshold), never looser: that would void the calibrated FAR, so it is refused.
 */
export function attemptSettingsFor(
  modelId: string,
  far: number,
  rule: AttemptRule,
  opts: { dir?: string; modelSha256?: string } = {},
): { threshold: number; rule: AttemptRule } {
  const threshold = thresholdFor(modelId, far, opts);
  const calibrated = attemptRuleOf(loadCalibration(modelId, opts.dir));
  if (!atLeastAsStrict(rule, calibrated)) {
    throw new Error(
      `the attempt rule "${describeRule(rule)}" is looser than the "${describeRule(calibrated)}" the ${modelId} thresholds were calibrated for; see docs/accuracy.md`,
    );
  }
  return { threshold, rule };
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
  attemptRule?: AttemptRule,
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
    if (existing.attempt_rule && attemptRule && JSON.stringify(existing.attempt_rule) !== JSON.stringify(attemptRule)) {
      throw new Error(
        `calibration file was made for attempt rule ${JSON.stringify(existing.attempt_rule)}, this run uses ${JSON.stringify(attemptRule)}; write a new file`,
      );
    }
  }
  const sources = { ...(existing?.sources ?? {}), [name]: source };
  const rule = attemptRule ?? existing?.attempt_rule;
  return {
    model,
    model_sha256: modelSha256 ?? existing?.model_sha256 ?? null,
    rule: 'accept iff score > threshold',
    scoring,
    ...(rule ? { attempt_rule: rule } : {}),
    sources,
    thresholds: combineThresholds(Object.values(sources)),
  };
}

/**
 * A source's threshold bound at FAR `far`: its threshold there, or, where it cannot resolve `far`, at the
 * smallest FAR above it that it does resolve (the true threshold can only be higher). Undefined if it resolves
 * nothing at or above `far`.
 */
function floorAt(table: Record<string, number> | undefined, far: number): number | undefined {
  if (!table) return undefined;
  let best: { far: number; t: number } | undefined;
  for (const [k, t] of Object.entries(table)) {
    const f = Number(k);
    if (f >= far * (1 - 1e-9) && (!best || f < best.far)) best = { far: f, t };
  }
  return best?.t;
}

/**
 * The combined table: for each FAR that at least one source resolves, the highest bound any source (unlock or
 * pairs protocol) puts on it. A population with few impostors (NUAA) cannot resolve 1e-4, but its 5e-4
 * threshold is still a floor for 1e-4: ignoring it would let the lenient populations alone set the threshold.
 */
export function combineThresholds(sources: readonly CalibrationSource[]): Record<string, number> {
  const thresholds: Record<string, number> = {};
  for (const far of CALIBRATION_FARS) {
    const k = farKey(far);
    if (!sources.some((s) => typeof s.thresholds[k] === 'number')) continue;
    const ts = sources.flatMap((s) => [floorAt(s.thresholds, far), floorAt(s.pairs_thresholds, far)]).filter((t): t is number => typeof t === 'number');
    thresholds[k] = Math.max(...ts);
  }
  return thresholds;
}
