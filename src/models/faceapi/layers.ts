/** Layout conversion and TensorFlow-compatible padding shared by the face-api network builders. */
import { type OnnxGraphBuilder, attr } from '../onnx/builder.js';

/** tfjs conv filters are [kh, kw, in, out]; ONNX wants [out, in, kh, kw]. */
export function hwioToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] = w[((y * kw + x) * cin + i) * cout + o]!;
        }
      }
    }
  }
  return out;
}

/**
 * TensorFlow's "SAME" padding for one spatial axis: the total is split with the odd pixel at the end, which
 * is not what ONNX's symmetric explicit pads would give by default, so we spell it out.
 */
export function tfSamePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export interface Conv2dSpec {
  /** ONNX layout [out, in/group, kh, kw]. */
  weight: Float32Array;
  bias?: Float32Array;
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  /** Input spatial size (square), used to compute TF "SAME" pads; undefined means "VALID". */
  sameFor?: number;
  group?: number;
}

export function conv2d(g: OnnxGraphBuilder, x: string, s: Conv2dSpec, hint: string): string {
  const group = s.group ?? 1;
  const w = g.initializer(`${hint}/w`, s.weight, [s.cout, s.cin / group, s.kernel, s.kernel]);
  const inputs = [x, w];
  if (s.bias) inputs.push(g.initializer(`${hint}/b`, s.bias, [s.cout]));
  const [pb, pa] = s.sameFor === undefined ? [0, 0] : tfSamePads(s.sameFor, s.kernel, s.stride);
  return g.node(
    'Conv',
    inputs,
    {
      kernel_shape: attr.ints([s.kernel, s.kernel]),
      strides: attr.ints([s.stride, s.stride]),
      pads: attr.ints([pb, pb, pa, pa]),
      group: attr.int(group),
    },
    hint,
  );
}
