import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { modelsDir } from '../paths.js';
import { sha256 } from './build/fetch.js';

export interface SessionOptions {
  /** ONNX Runtime intra-op threads; undefined lets ORT pick (one per core). */
  intraOpThreads?: number;
}

export interface LoadedModel {
  readonly id: string;
  readonly session: ort.InferenceSession;
  readonly sha256: string;
}

interface ManifestEntry {
  file: string;
  sha256: string;
}

/**
 * Loads models/<id>.onnx after checking its digest against models/manifest.json, so a model swapped on disk
 * is refused rather than silently matched against templates made by another network.
 */
export async function loadModel(id: string, opts: SessionOptions = {}): Promise<LoadedModel> {
  const dir = modelsDir();
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`no models in ${dir}: run "npm run build:models" (or set FACEGATE_MODEL_DIR)`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Record<string, ManifestEntry | undefined>;
  const entry = manifest[id];
  if (!entry) throw new Error(`model ${id} is not built in ${dir}: run "npm run build:models"`);
  const bytes = fs.readFileSync(path.join(dir, entry.file));
  const digest = sha256(bytes);
  if (digest !== entry.sha256) throw new Error(`model ${id}: file digest ${digest} differs from manifest; rebuild models`);
  const session = await createSession(bytes, opts);
  return { id, session, sha256: digest };
}

/**
 * An ONNX Runtime session over model bytes with facegate's settings. Used by loadModel and by models that do not
 * live in models/ (e.g. trained/pad.onnx, checked against its own calibration).
 */
export function createSession(bytes: Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    ...(opts.intraOpThreads !== undefined ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Idle intra-op threads spin by default; on a 2-core machine the spinning worker steals the core the other
    // stage (or the other half of a flip-TTA batch) needs.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    // Errors only: ORT's warnings (e.g. unused initializers removed while optimising) would reach the user's
    // terminal and the daemon's journal on every start, and say nothing the user can act on.
    logSeverityLevel: 3,
  });
}
