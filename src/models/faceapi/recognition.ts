/**
 * face-api's FaceRecognitionNet (a port of dlib's ResNet-29 face descriptor) as ONNX, built from its weight
 * manifest. Mirrors node_modules/@vladmandic/face-api/src/faceRecognitionNet/ layer by layer.
 *
 * Model contract:
 *   input  `input`      float32 [N, 3, 150, 150], planar RGB, 0..255 (no normalisation: it is folded in)
 *   output `descriptor` float32 [N, 128], raw (not L2-normalised), as face-api's computeFaceDescriptor returns
 * Planar input lets the caller write the tensor in the same loop that converts bytes to floats, with no
 * transpose inside the graph.
 */
import { OnnxGraphBuilder, attr } from '../onnx/builder.js';
import { conv2d, hwioToOihw } from './layers.js';
import { take, type WeightMap } from './weights.js';

export const RECOGNITION_INPUT_SIZE = 150;
export const RECOGNITION_DIM = 128;
/** face-api subtracts this mean from 0..255 RGB, then divides by 255 (the TS source says 255, not 256). */
export const FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298] as const;
export const FACEAPI_INPUT_DIVISOR = 255;

interface Folded {
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * conv -> +bias -> *scale.weights -> +scale.biases is one affine conv: fold it, and optionally fold the input
 * normalisation (x - mean) / 255 as well. Folding the normalisation is exact only for an unpadded ("VALID")
 * conv, because padding zeros would otherwise be raw zeros instead of normalised zeros; the caller ensures it.
 */
function foldConvScale(map: WeightMap, prefix: string, k: number, cin: number, cout: number, inputNorm?: { mean: readonly number[]; divisor: number }): Folded {
  const filters = hwioToOihw(take(map, `${prefix}/conv/filters`, [k, k, cin, cout]), k, k, cin, cout);
  const bias = take(map, `${prefix}/conv/bias`, [cout]);
  const s = take(map, `${prefix}/scale/weights`, [cout]);
  const t = take(map, `${prefix}/scale/biases`, [cout]);
  const weight = new Float32Array(filters.length);
  const outBias = new Float32Array(cout);
  const per = cin * k * k;
  for (let o = 0; o < cout; o++) {
    let shift = 0;
    for (let j = 0; j < per; j++) {
      const w = filters[o * per + j]!;
      if (inputNorm) {
        const ci = Math.floor(j / (k * k));
        shift += (w * inputNorm.mean[ci]!) / inputNorm.divisor;
        weight[o * per + j] = (w / inputNorm.divisor) * s[o]!;
      } else {
        weight[o * per + j] = w * s[o]!;
      }
    }
    outBias[o] = (bias[o]! - shift) * s[o]! + t[o]!;
  }
  return { weight, bias: outBias };
}

interface Stage {
  x: string;
  size: number;
  channels: number;
}

function convLayer(g: OnnxGraphBuilder, map: WeightMap, prefix: string, at: Stage, cout: number, down: boolean, relu: boolean): Stage {
  const f = foldConvScale(map, prefix, 3, at.channels, cout);
  const spec = { weight: f.weight, bias: f.bias, cin: at.channels, cout, kernel: 3 };
  // face-api: stride-2 convs are "valid", stride-1 convs are "same".
  const y = down ? conv2d(g, at.x, { ...spec, stride: 2 }, prefix) : conv2d(g, at.x, { ...spec, stride: 1, sameFor: at.size }, prefix);
  const size = down ? Math.floor((at.size - 3) / 2) + 1 : at.size;
  return { x: relu ? g.node('Relu', [y], {}, `${prefix}/relu`) : y, size, channels: cout };
}

function residual(g: OnnxGraphBuilder, map: WeightMap, prefix: string, at: Stage): Stage {
  const a = convLayer(g, map, `${prefix}/conv1`, at, at.channels, false, true);
  const b = convLayer(g, map, `${prefix}/conv2`, a, at.channels, false, false);
  const sum = g.node('Add', [b.x, at.x], {}, `${prefix}/add`);
  return { x: g.node('Relu', [sum], {}, `${prefix}/out`), size: at.size, channels: at.channels };
}

/**
 * Down-sampling residual block. The shortcut is a 2×2 average pool, zero-padded in channels when the block
 * widens; when the pooled map is one pixel larger than the conv path (odd sizes), face-api pads the conv path
 * with a zero row and column at the end. Reproduced exactly, since it shapes the descriptor.
 */
function residualDown(g: OnnxGraphBuilder, map: WeightMap, prefix: string, at: Stage, cout: number): Stage {
  const a = convLayer(g, map, `${prefix}/conv1`, at, cout, true, true);
  const b = convLayer(g, map, `${prefix}/conv2`, a, cout, false, false);
  const pooledSize = Math.floor((at.size - 2) / 2) + 1;
  let pooled: string;
  if (cout !== at.channels) {
    // 2×2 average pool + zero channels as one stride-2 conv (0.25 on the channel diagonal): ONNX Runtime keeps
    // a Conv in its blocked NCHWc layout, whereas a Pad would force layout reorders through the rest of the net.
    const w = new Float32Array(cout * at.channels * 4);
    for (let c = 0; c < at.channels; c++) w.fill(0.25, (c * at.channels + c) * 4, (c * at.channels + c + 1) * 4);
    pooled = conv2d(g, at.x, { weight: w, cin: at.channels, cout, kernel: 2, stride: 2 }, `${prefix}/pool`);
  } else {
    pooled = g.node('AveragePool', [at.x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, `${prefix}/pool`);
  }
  let main = b.x;
  if (pooledSize !== b.size) {
    if (pooledSize !== b.size + 1) throw new Error(`${prefix}: unexpected sizes ${pooledSize} vs ${b.size}`);
    const pads = g.constInt64(`${prefix}/hwpad`, [0, 0, 0, 0, 0, 0, 1, 1]);
    main = g.node('Pad', [main, pads], {}, `${prefix}/conv_pad`);
  }
  const sum = g.node('Add', [pooled, main], {}, `${prefix}/add`);
  return { x: g.node('Relu', [sum], {}, `${prefix}/out`), size: pooledSize, channels: cout };
}

export function buildRecognitionGraph(map: WeightMap, batch: number | 'N' = 'N'): Uint8Array {
  const g = new OnnxGraphBuilder('faceapi-recognition');
  const S = RECOGNITION_INPUT_SIZE;
  const input = g.input('input', [batch, 3, S, S]);

  const first = foldConvScale(map, 'conv32_down', 7, 3, 32, { mean: FACEAPI_MEAN_RGB, divisor: FACEAPI_INPUT_DIVISOR });
  // 7×7 stride-2 "valid": no padding, so folding the normalisation into it is exact.
  let y = conv2d(g, input, { ...first, cin: 3, cout: 32, kernel: 7, stride: 2 }, 'conv32_down');
  y = g.node('Relu', [y], {}, 'conv32_down/relu');
  let size = Math.floor((S - 7) / 2) + 1;
  y = g.node('MaxPool', [y], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) }, 'maxpool');
  size = Math.floor((size - 3) / 2) + 1;

  let at: Stage = { x: y, size, channels: 32 };
  at = residual(g, map, 'conv32_1', at);
  at = residual(g, map, 'conv32_2', at);
  at = residual(g, map, 'conv32_3', at);
  at = residualDown(g, map, 'conv64_down', at, 64);
  at = residual(g, map, 'conv64_1', at);
  at = residual(g, map, 'conv64_2', at);
  at = residual(g, map, 'conv64_3', at);
  at = residualDown(g, map, 'conv128_down', at, 128);
  at = residual(g, map, 'conv128_1', at);
  at = residual(g, map, 'conv128_2', at);
  at = residualDown(g, map, 'conv256_down', at, 256);
  at = residual(g, map, 'conv256_1', at);
  at = residual(g, map, 'conv256_2', at);
  at = residualDown(g, map, 'conv256_down_out', at, 256);

  const pooled = g.node('GlobalAveragePool', [at.x], {}, 'gap');
  const flat = g.node('Flatten', [pooled], { axis: attr.int(1) }, 'flatten');
  const fc = g.initializer('fc', take(map, 'fc', [256, RECOGNITION_DIM]), [256, RECOGNITION_DIM]);
  const out = g.node('MatMul', [flat, fc], {}, 'fc');
  g.output(g.alias(out, 'descriptor'), ['N', RECOGNITION_DIM]);
  return g.toBytes();
}
