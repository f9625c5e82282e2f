/**
 * The single-frame presentation-attack (PAD) classifier at run time: colour-texture features of the face
 * (pad-features.ts) scored by the small ONNX model `npm run train:pad` writes to trained/pad.onnx, with the
 * per-frame threshold from calibration/pad.json. The calibration names the model's SHA-256; any other model
 * file is refused, since the threshold would mean nothing for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../models/build/fetch.js';
import { VectorModel } from '../models/vector-model.js';
import { calibrationDir } from '../match/calibration.js';
import { PACKAGE_ROOT } from '../paths.js';
import { PAD_INPUT, PAD_OUTPUT } from './pad-classifier.js';
import { PAD_FEATURES, padFeatureDim, padFeatures, type PadFeatureConfig, type PadInput } from './pad-features.js';

export type { PadInput } from './pad-features.js';

export const PAD_MODEL_ID = 'pad';
export const PAD_RULE = 'live iff score > threshold';

export function defaultPadModelPath(): string {
  return path.join(PACKAGE_ROOT, 'trained', 'pad.onnx');
}

export function defaultPadCalibrationPath(): string {
  return path.join(calibrationDir(), 'pad.json');
}

/** One LOSO fold: the subject left out and its frames' figures at the shipped threshold. */
export interface PadFoldFigures {
  subject: string;
  live: number;
  attack: number;
  /** Frames where the pipeline found no face (not scored). */
  noface: number;
  bpcer: number | null;
  apcer: number | null;
  eer: number | null;
}

/** calibration/pad.json. */
export interface PadCalibration {
  model: typeof PAD_MODEL_ID;
  model_sha256: string;
  rule: typeof PAD_RULE;
  /** Per-frame threshold: live iff score > threshold. */
  threshold: number;
  features: PadFeatureConfig;
  [key: string]: unknown;
}

export function validatePadCalibration(v: unknown, source: string): PadCalibration {
  const bad = (why: string): never => {
    throw new Error(`PAD calibration ${source}: ${why}`);
  };
  if (typeof v !== 'object' || v === null) return bad('not an object');
  const o = v as Record<string, unknown>;
  if (o.model !== PAD_MODEL_ID) bad(`"model" must be "${PAD_MODEL_ID}"`);
  if (typeof o.model_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.model_sha256)) bad('"model_sha256" must be a SHA-256 in hex');
  if (o.rule !== PAD_RULE) bad('unknown decision rule');
  if (typeof o.threshold !== 'number' || !(o.threshold >= 0 && o.threshold <= 1)) bad('"threshold" must be a number in [0, 1]');
  // The features are code, not data: a table made for other features cannot be honoured.
  if (JSON.stringify(o.features) !== JSON.stringify(PAD_FEATURES)) bad('made for other features than this build computes; retrain (npm run train:pad)');
  return v as PadCalibration;
}

export function readPadCalibration(file = defaultPadCalibrationPath()): PadCalibration {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no PAD calibration (${file}); run "npm run train:pad"`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`PAD calibration ${file}: ${(err as Error).message}`);
  }
  return validatePadCalibration(parsed, file);
}

export class PadModel {
  private constructor(
    private readonly model: VectorModel,
    readonly threshold: number,
    private readonly config: PadFeatureConfig,
  ) {}

  get sha256(): string {
    return this.model.sha256;
  }

  /** Loads trained/pad.onnx (or `path`) and refuses it unless calibration/pad.json was made for exactly this file. */
  static async load(opts: { path?: string; calibration?: string; intraOpThreads?: number } = {}): Promise<PadModel> {
    const file = opts.path ?? defaultPadModelPath();
    const cal = readPadCalibration(opts.calibration ?? defaultPadCalibrationPath());
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read PAD model ${file}: ${(err as Error).message}`);
    }
    const digest = sha256(bytes);
    if (digest !== cal.model_sha256) {
      throw new Error(
        `PAD model ${file} (sha256 ${digest.slice(0, 12)}…) is not the model calibration/pad.json was made for (${cal.model_sha256.slice(0, 12)}…); retrain with "npm run train:pad"`,
      );
    }
    return PadModel.fromBytes(bytes, {
      threshold: cal.threshold,
      config: cal.features,
      ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
    });
  }

  /** A model from ONNX bytes without a calibration check (cross-validation folds built in memory). */
  static async fromBytes(bytes: Uint8Array, opts: { threshold: number; config?: PadFeatureConfig; intraOpThreads?: number }): Promise<PadModel> {
    const config = opts.config ?? PAD_FEATURES;
    const model = await VectorModel.fromBytes(
      bytes,
      { id: PAD_MODEL_ID, input: PAD_INPUT, output: PAD_OUTPUT, inputDim: padFeatureDim(config), outputDim: 1 },
      opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {},
    );
    return new PadModel(model, opts.threshold, config);
  }

  /** The features of one face, as the model sees them. */
  features(input: PadInput): Float32Array {
    return padFeatures(input, this.config);
  }

  /** Probability-like live score in [0, 1]; higher = more likely bona fide. */
  async score(input: PadInput): Promise<number> {
    const [p] = await this.model.run(this.features(input));
    if (p === undefined || !Number.isFinite(p)) throw new Error('PAD model returned no finite score');
    return Math.min(1, Math.max(0, p));
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
