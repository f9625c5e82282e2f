import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { modelsDir } from '../paths.js';
import { sha256 } from './build/fetch.js';

/*
 * The one module that talks to ONNX Runtime. Model wrappers hand it plain Float32Arrays and shapes and get the
 * same back, so the runtime (and its options) can change in one place.
 */

// Errors only: ORT's warnings (e.g. unused initializers removed while optimising) would reach the user's terminal
// and the daemon's journal on every start, and say nothing the user can act on. Both the process-wide default
// (env) and each session's own level are set, as sessions do not inherit env.logLevel for every message.
ort.env.logLevel = 'error';
const LOG_SEVERITY_ERROR = 3;

export interface SessionOptions {
  /** ONNX Runtime intra-op threads; undefined lets ORT pick (one per core). */
  intraOpThreads?: number;
}

/** A float32 tensor as plain data: row-major values and their shape. */
export interface FloatTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

function sessionOptions(opts: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    ...(opts.intraOpThreads !== undefined ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Idle intra-op threads spin by default; on a 2-core machine the spinning worker steals the core the other
    // stage (or the other half of a flip-TTA batch) needs.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    logSeverityLevel: LOG_SEVERITY_ERROR,
  };
}

/** One ONNX Runtime session over float32 inputs and outputs. */
export class LoadedModel {
  private constructor(
    readonly id: string,
    readonly sha256: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** A session over ONNX bytes that did not come from models/ (builder and converter tests, benches). */
  static fromBytes(id: string, bytes: Uint8Array, opts: SessionOptions = {}): Promise<LoadedModel> {
    return LoadedModel.create(id, bytes, sha256(bytes), opts);
  }

  /** @internal `digest` is the already computed sha256 of `bytes`. */
  static async create(id: string, bytes: Uint8Array, digest: string, opts: SessionOptions): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(bytes, sessionOptions(opts));
    return new LoadedModel(id, digest, session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the model on float32 inputs and returns the named outputs (all outputs when `names` is omitted).
   * Fails when an output is missing or not float32, so callers never index a tensor of another type.
   */
  async run(feeds: Readonly<Record<string, FloatTensor>>, names: readonly string[] = this.session.outputNames): Promise<Record<string, FloatTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
    const out = await this.session.run(ortFeeds, names);
    const result: Record<string, FloatTensor> = {};
    for (const name of names) {
      const t = out[name];
      if (!t || !(t.data instanceof Float32Array)) throw new Error(`model ${this.id}: no float32 output ${name}`);
      result[name] = { data: t.data, dims: t.dims };
    }
    return result;
  }

  release(): Promise<void> {
    return this.session.release();
  }
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
  return LoadedModel.create(id, bytes, digest, opts);
}
