/**
 * The PAD classifier: L2-regularised logistic regression on standardised features, fitted by Newton's method
 * (exact and deterministic: no learning rate, no sampling), exported as an ONNX Gemm → Sigmoid graph. The
 * standardisation is folded into the Gemm weights, so the model takes the raw feature vector.
 */
import { OnnxGraphBuilder, attr } from '../models/onnx/builder.js';

export const PAD_INPUT = 'features';
export const PAD_OUTPUT = 'live';

export interface LogisticModel {
  /** Weights on the raw features (float32, as the ONNX graph holds them). */
  readonly weights: Float32Array;
  readonly bias: number;
}

export interface TrainingSet {
  /** Row-major n × dim. */
  readonly x: Float32Array;
  readonly dim: number;
  /** 1 = bona fide (live), 0 = attack. */
  readonly y: Uint8Array;
}

export interface LogisticOptions {
  /** Ridge penalty on the standardised weights, with sample weights summing to 1. */
  lambda: number;
  /** Newton iterations at most (it converges in far fewer). */
  maxIter?: number;
}

/** Smallest standard deviation a feature is divided by: bins almost always empty must not become noise amplifiers. */
const MIN_STD = 0.02;

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Solves A·x = b in place for symmetric positive definite A (m × m, row-major) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, m: number): Float64Array {
  for (let j = 0; j < m; j++) {
    let d = a[j * m + j]!;
    for (let k = 0; k < j; k++) d -= a[j * m + k]! * a[j * m + k]!;
    if (!(d > 0)) throw new Error('logistic regression: Hessian is not positive definite');
    const l = Math.sqrt(d);
    a[j * m + j] = l;
    for (let i = j + 1; i < m; i++) {
      let s = a[i * m + j]!;
      for (let k = 0; k < j; k++) s -= a[i * m + k]! * a[j * m + k]!;
      a[i * m + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= a[i * m + k]! * x[k]!;
    x[i] = s / a[i * m + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < m; k++) s -= a[k * m + i]! * x[k]!;
    x[i] = s / a[i * m + i]!;
  }
  return x;
}

/**
 * Fits the model. Live and attack samples carry equal total weight (the set holds more attack frames), so the
 * bias is not pulled towards the larger class.
 */
export function trainLogistic(set: TrainingSet, opts: LogisticOptions): LogisticModel {
  const { x, dim, y } = set;
  const n = y.length;
  if (n === 0 || x.length !== n * dim) throw new Error('training set is empty or malformed');
  let nLive = 0;
  for (const v of y) if (v === 1) nLive++;
  if (nLive === 0 || nLive === n) throw new Error('training set needs both live and attack samples');
  const sw = new Float64Array(n);
  for (let i = 0; i < n; i++) sw[i] = y[i] === 1 ? 0.5 / nLive : 0.5 / (n - nLive);

  // Standardise (unweighted mean and std of the training rows).
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const d = x[i * dim + j]! - mean[j]!;
      std[j]! += d * d;
    }
  }
  for (let j = 0; j < dim; j++) std[j] = Math.max(MIN_STD, Math.sqrt(std[j]! / n));
  const m = dim + 1; // last column: bias
  const z = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) z[i * m + j] = (x[i * dim + j]! - mean[j]!) / std[j]!;
    z[i * m + dim] = 1;
  }

  const beta = new Float64Array(m);
  const p = new Float64Array(n);
  const maxIter = opts.maxIter ?? 30;
  for (let it = 0; it < maxIter; it++) {
    const grad = new Float64Array(m);
    const hess = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * m;
      for (let j = 0; j < m; j++) s += z[row + j]! * beta[j]!;
      p[i] = sigmoid(s);
      const r = sw[i]! * (p[i]! - y[i]!);
      const h = sw[i]! * p[i]! * (1 - p[i]!);
      for (let j = 0; j < m; j++) {
        const zj = z[row + j]!;
        grad[j]! += r * zj;
        const hz = h * zj;
        // Lower triangle only; mirrored below.
        for (let k = 0; k <= j; k++) hess[j * m + k]! += hz * z[row + k]!;
      }
    }
    for (let j = 0; j < m; j++) for (let k = 0; k < j; k++) hess[k * m + j] = hess[j * m + k]!;
    for (let j = 0; j < dim; j++) {
      grad[j]! += opts.lambda * beta[j]!;
      hess[j * m + j]! += opts.lambda;
    }
    hess[dim * m + dim]! += 1e-9;
    const step = solveSpd(hess, grad, m);
    let maxStep = 0;
    for (let j = 0; j < m; j++) {
      beta[j]! -= step[j]!;
      maxStep = Math.max(maxStep, Math.abs(step[j]!));
    }
    if (maxStep < 1e-8) break;
  }

  // Fold the standardisation into raw-feature weights.
  const weights = new Float32Array(dim);
  let bias = beta[dim]!;
  for (let j = 0; j < dim; j++) {
    const w = beta[j]! / std[j]!;
    weights[j] = w;
    bias -= w * mean[j]!;
  }
  return { weights, bias: Math.fround(bias) };
}

/** The live score in TypeScript, the same arithmetic as the ONNX graph (float32 weights, float64 sum). */
export function scoreLogistic(model: LogisticModel, features: Float32Array): number {
  if (features.length !== model.weights.length) throw new Error(`expected ${model.weights.length} features, got ${features.length}`);
  let s = model.bias;
  for (let j = 0; j < features.length; j++) s += model.weights[j]! * features[j]!;
  return Math.fround(sigmoid(s));
}

/** features [N, dim] → Gemm → Sigmoid → live [N, 1]. */
export function logisticToOnnx(model: LogisticModel): Uint8Array {
  const dim = model.weights.length;
  const g = new OnnxGraphBuilder('facegate-pad', 13);
  const x = g.input(PAD_INPUT, ['N', dim]);
  const w = g.initializer('W', model.weights, [dim, 1]);
  const b = g.initializer('B', Float32Array.of(model.bias), [1]);
  const logit = g.node('Gemm', [x, w, b], { alpha: attr.float(1), beta: attr.float(1) }, 'logit');
  const p = g.node('Sigmoid', [logit], {}, 'prob');
  g.output(g.alias(p, PAD_OUTPUT), ['N', 1]);
  return g.toBytes('facegate train:pad');
}
