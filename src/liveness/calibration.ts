import fs from 'node:fs';
import path from 'node:path';
import { calibrationDir } from '../match/calibration.js';
import { CUE_DIRECTION, FUSED_CUES, type FusedCue } from './fusion.js';

/** calibration/liveness.json: the fusion's window and per-cue thresholds, and how they were derived. */
export interface LivenessCalibration {
  window: number;
  /** Share of training live windows each cue's threshold was allowed to reject. */
  percentile: number;
  thresholds: Partial<Record<FusedCue, number>>;
  /** The PAD model the `pad` threshold was fitted for (its scores are meaningless for another model). */
  pad_model_sha256?: string;
  /** Free-form provenance: command, data set, subjects, counts, leave-subjects-out figures. */
  derived?: unknown;
}

export function livenessCalibrationPath(dir = calibrationDir()): string {
  return path.join(dir, 'liveness.json');
}

export function validateLivenessCalibration(v: unknown, source: string): LivenessCalibration {
  const bad = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not a JSON object');
  const o = v as Record<string, unknown>;
  if (!Number.isInteger(o.window) || (o.window as number) < 2 || (o.window as number) > 100) bad('window must be an integer 2..100');
  if (typeof o.percentile !== 'number' || !(o.percentile >= 0 && o.percentile < 0.5)) bad('percentile must be in [0, 0.5)');
  if (typeof o.thresholds !== 'object' || o.thresholds === null) bad('thresholds must be an object');
  const thresholds: Partial<Record<FusedCue, number>> = {};
  for (const [k, t] of Object.entries(o.thresholds as Record<string, unknown>)) {
    if (!(FUSED_CUES as readonly string[]).includes(k)) bad(`thresholds.${k}: unknown cue (known: ${FUSED_CUES.join(', ')})`);
    if (typeof t !== 'number' || !Number.isFinite(t)) bad(`thresholds.${k} must be a finite number`);
    thresholds[k as FusedCue] = t as number;
  }
  if (o.pad_model_sha256 !== undefined && (typeof o.pad_model_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.pad_model_sha256)))
    bad('pad_model_sha256 must be 64 hex digits');
  if (thresholds.pad !== undefined && o.pad_model_sha256 === undefined) bad('a pad threshold needs pad_model_sha256');
  return {
    window: o.window as number,
    percentile: o.percentile as number,
    thresholds,
    ...(typeof o.pad_model_sha256 === 'string' ? { pad_model_sha256: o.pad_model_sha256 } : {}),
    ...(o.derived !== undefined ? { derived: o.derived } : {}),
  };
}

export function readLivenessCalibration(file = livenessCalibrationPath()): LivenessCalibration {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read liveness calibration ${file}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  return validateLivenessCalibration(v, file);
}

/** Cue thresholds at a percentile of live windows' summaries: each cue alone rejects about `q` of them. */
export function thresholdsAtPercentile(
  liveSummaries: ReadonlyArray<Partial<Record<FusedCue, number>>>,
  cues: readonly FusedCue[],
  q: number,
): Partial<Record<FusedCue, number>> {
  const out: Partial<Record<FusedCue, number>> = {};
  for (const cue of cues) {
    const v = liveSummaries
      .map((s) => s[cue])
      .filter((x): x is number => x !== undefined && Number.isFinite(x))
      .sort((a, b) => a - b);
    if (v.length === 0) throw new Error(`no live window measured cue ${cue}`);
    // Lower threshold for `min` cues at the q-quantile, upper for `max` cues at the (1 − q)-quantile.
    out[cue] = CUE_DIRECTION[cue] === 'min' ? v[Math.floor(q * (v.length - 1))]! : v[Math.ceil((1 - q) * (v.length - 1))]!;
  }
  return out;
}
