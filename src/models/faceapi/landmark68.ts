/**
 * face-api's FaceLandmark68Net as ONNX, built from its weight manifest. Mirrors
 * node_modules/@vladmandic/face-api/src/faceFeatureExtractor/ (four dense blocks of depthwise-separable
 * convolutions) and faceLandmarkNet/ (a fully connected layer to 136 values).
 *
 * Model contract:
 *   input  `input`     float32 [N, 3, 112, 112], planar RGB, 0..255: the face box padded to a square with black
 *                      and resized to 112 (the caller does this; see src/vision/landmarks68.ts)
 *   output `landmarks` float32 [N, 136], x0 y0 x1 y1 …, each relative (0..1) to the 112×112 input
 */
import { OnnxGraphBuilder, attr } from '../onnx/builder.js';
import { conv2d, hwioToOihw } from './layers.js';
import { FACEAPI_INPUT_DIVISOR, FACEAPI_MEAN_RGB } from './recognition.js';
import { take, type WeightMap } from './weights.js';

export const LANDMARK_INPUT_SIZE = 112;
export const LANDMARK_POINTS = 68;

interface At {
  x: string;
  size: number;
  channels: number;
}

/** tf.separableConv2d(depthwise, pointwise, stride, 'same') + bias. */
function separable(g: OnnxGraphBuilder, map: WeightMap, prefix: string, at: At, cout: number, stride: number): At {
  const c = at.channels;
  const dw = take(map, `${prefix}/depthwise_filter`, [3, 3, c, 1]);
  const pw = take(map, `${prefix}/pointwise_filter`, [1, 1, c, cout]);
  const bias = take(map, `${prefix}/bias`, [cout]);
  // Depthwise [kh, kw, C, 1] -> ONNX grouped conv weight [C, 1, kh, kw]: the same transpose as HWIO with in=1.
  const d = conv2d(g, at.x, { weight: hwioToOihw(dw, 3, 3, 1, c), cin: c, cout: c, kernel: 3, stride, sameFor: at.size, group: c }, `${prefix}/depthwise`);
  const p = conv2d(g, d, { weight: hwioToOihw(pw, 1, 1, c, cout), bias, cin: c, cout, kernel: 1, stride: 1 }, `${prefix}/pointwise`);
  return { x: p, size: Math.ceil(at.size / stride), channels: cout };
}

/** face-api's denseBlock4: each separable conv sees the ReLU of the sum of all earlier outputs in the block. */
function denseBlock4(g: OnnxGraphBuilder, map: WeightMap, prefix: string, at: At, cout: number, first: boolean): At {
  let out1: At;
  if (first) {
    const cin = at.channels;
    const w = hwioToOihw(take(map, `${prefix}/conv0/filters`, [3, 3, cin, cout]), 3, 3, cin, cout);
    const b = take(map, `${prefix}/conv0/bias`, [cout]);
    const y = conv2d(g, at.x, { weight: w, bias: b, cin, cout, kernel: 3, stride: 2, sameFor: at.size }, `${prefix}/conv0`);
    out1 = { x: y, size: Math.ceil(at.size / 2), channels: cout };
  } else {
    out1 = separable(g, map, `${prefix}/conv0`, at, cout, 2);
  }
  out1 = { ...out1, x: g.node('Relu', [out1.x], {}, `${prefix}/out1`) };
  const out2 = separable(g, map, `${prefix}/conv1`, out1, cout, 1);
  let sum = g.node('Add', [out1.x, out2.x], {}, `${prefix}/sum2`);
  const out3 = separable(g, map, `${prefix}/conv2`, { ...out1, x: g.node('Relu', [sum], {}, `${prefix}/in3`) }, cout, 1);
  sum = g.node('Add', [sum, out3.x], {}, `${prefix}/sum3`);
  const out4 = separable(g, map, `${prefix}/conv3`, { ...out1, x: g.node('Relu', [sum], {}, `${prefix}/in4`) }, cout, 1);
  sum = g.node('Add', [sum, out4.x], {}, `${prefix}/sum4`);
  return { ...out1, x: g.node('Relu', [sum], {}, `${prefix}/out`) };
}

export function buildLandmark68Graph(map: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder('faceapi-landmark68');
  const S = LANDMARK_INPUT_SIZE;
  const input = g.input('input', ['N', 3, S, S]);
  // Normalisation stays explicit here: the first conv is "same"-padded, so folding it into the weights would
  // turn the border padding into raw zeros instead of normalised zeros.
  const mean = g.constFloat('mean', Array.from(FACEAPI_MEAN_RGB), [1, 3, 1, 1]);
  const div = g.constFloat('divisor', [FACEAPI_INPUT_DIVISOR], [1]);
  const x = g.node('Div', [g.node('Sub', [input, mean], {}, 'centre'), div], {}, 'normalised');

  let at: At = { x, size: S, channels: 3 };
  at = denseBlock4(g, map, 'dense0', at, 32, true);
  at = denseBlock4(g, map, 'dense1', at, 64, false);
  at = denseBlock4(g, map, 'dense2', at, 128, false);
  at = denseBlock4(g, map, 'dense3', at, 256, false);
  if (at.size !== 7) throw new Error(`landmark net: expected a 7×7 feature map, got ${at.size}`);
  // tf.avgPool(7×7, stride 2, valid) on a 7×7 map is a global average.
  const pooled = g.node('GlobalAveragePool', [at.x], {}, 'gap');
  const flat = g.node('Flatten', [pooled], { axis: attr.int(1) }, 'flatten');
  const n = 2 * LANDMARK_POINTS;
  const w = g.initializer('fc/weights', take(map, 'fc/weights', [256, n]), [256, n]);
  const b = g.initializer('fc/bias', take(map, 'fc/bias', [n]), [n]);
  const out = g.node('Add', [g.node('MatMul', [flat, w], {}, 'fc'), b], {}, 'fc_bias');
  g.output(g.alias(out, 'landmarks'), ['N', n]);
  return g.toBytes();
}
