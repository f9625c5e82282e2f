import type { LivenessConfig } from '../config/config.js';
import { readLivenessCalibration, type LivenessCalibration } from './calibration.js';
import type { FusedCue, FusionParams } from './fusion.js';
import { LivenessChecker, type PadScorer } from './judge.js';
import { PadModel } from './pad-model.js';

/** A PAD model as the daemon holds it: a scorer tied to a file by its SHA-256. */
export interface LoadedPad extends PadScorer {
  readonly sha256: string;
  close(): Promise<void>;
}

export interface LoadedLiveness {
  checker: LivenessChecker;
  calibration: LivenessCalibration;
  close(): Promise<void>;
}

/** The fusion parameters the config selects from the calibration (a cue it has no threshold for is an error). */
export function fusionParams(cfg: LivenessConfig, cal: LivenessCalibration): FusionParams {
  const thresholds: Partial<Record<FusedCue, number>> = {};
  for (const cue of cfg.cues as FusedCue[]) {
    const t = cal.thresholds[cue];
    if (t === undefined) throw new Error(`liveness.cues: "${cue}" has no threshold in calibration/liveness.json`);
    thresholds[cue] = t;
  }
  return { window: cal.window, thresholds, min_ear: cfg.min_ear, ir: { min_face_gain: cfg.ir_min_face_gain, min_ratio: cfg.ir_min_ratio } };
}

/**
 * The liveness judge facegated and the CLI decide with, or null when the config turns liveness off. Loads the PAD
 * model only when the `pad` cue is in use, and refuses a model other than the one the calibration was fitted for.
 */
export async function loadLiveness(cfg: LivenessConfig, opts: { loadPad: () => Promise<LoadedPad>; calibrationFile?: string }): Promise<LoadedLiveness | null> {
  if (!cfg.enabled) return null;
  const cal = readLivenessCalibration(opts.calibrationFile);
  const params = fusionParams(cfg, cal);
  let pad: LoadedPad | null = null;
  if (params.thresholds.pad !== undefined) {
    pad = await opts.loadPad();
    if (pad.sha256 !== cal.pad_model_sha256) {
      await pad.close();
      throw new Error(
        `calibration/liveness.json was fitted for PAD model ${cal.pad_model_sha256?.slice(0, 12)}…, not ${pad.sha256.slice(0, 12)}…; re-run "facegate eval-pad --write-calibration"`,
      );
    }
  }
  if (pad) {
    // The first ONNX Runtime inference pays for allocations (tens of ms); pay it at start, not on the first unlock.
    const blank = { width: 64, height: 64, channels: 3 as const, data: new Uint8Array(64 * 64 * 3).fill(128) };
    const landmarks = Array.from({ length: 68 }, (_, i) => ({ x: 16 + (i % 9) * 4, y: 16 + Math.floor(i / 9) * 4 }));
    await pad.score({ image: blank, box: { x: 12, y: 12, width: 40, height: 40 }, landmarks });
  }
  const checker = new LivenessChecker(pad, params, cfg.ir_gate);
  return { checker, calibration: cal, close: async () => pad?.close() };
}

/** The liveness judge for a facegate config, the same in facegated and the CLI (trained/pad.onnx when `pad` is used). */
export async function loadConfiguredLiveness(cfg: LivenessConfig, intraOpThreads?: number): Promise<LoadedLiveness | null> {
  return loadLiveness(cfg, { loadPad: () => PadModel.load(intraOpThreads !== undefined ? { intraOpThreads } : {}) });
}
