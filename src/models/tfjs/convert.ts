/**
 * TensorFlow.js graph model -> ONNX. The tfjs graph is NHWC; ONNX convolutions are NCHW. Activations are
 * transposed to NCHW once after the input and stay there; constants that broadcast against them are permuted
 * at conversion time, and a tensor goes back to NHWC only where memory order matters (Reshape, Squeeze,
 * outputs, ...). Every tensor carries its logical TF shape (batch taken as 1) so window pads, axes and
 * reshapes are resolved statically and exactly.
 */
import { OnnxGraphBuilder, attr } from '../onnx/builder.js';
import type { Attr } from '../onnx/builder.js';
import { parseModelJson } from './modeljson.js';
import type { TfAttr, TfNode, TfjsGraphModel } from './modeljson.js';
import { decodeWeights } from './weights.js';
import type { DecodedWeight } from './weights.js';
import { windowPads } from './padding.js';

type Layout = 'nchw' | 'plain';

interface Act {
  readonly kind: 'act';
  readonly name: string;
  /** Logical TF (NHWC) shape; the batch dimension is taken as 1. */
  readonly shape: readonly number[];
  /** `nchw`: a rank-4 tensor stored as NCHW in ONNX. `plain`: stored exactly as TF sees it. */
  readonly layout: Layout;
}

interface Konst {
  readonly kind: 'const';
  readonly tfName: string;
  readonly w: DecodedWeight;
}

type Value = Act | Konst;

export class TfjsConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsConversionError';
  }
}

export interface ConvertOptions {
  /** ONNX graph name. */
  readonly name?: string;
  /** Outputs to expose (signature keys or node names); default: the signature outputs. */
  readonly outputs?: readonly string[];
}

export interface ConvertResult {
  readonly onnx: Uint8Array;
  readonly inputs: readonly { name: string; shape: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; shape: readonly (number | string)[] }[];
}

/** Ops the converter maps. Anything else fails the conversion with the op named. */
export const SUPPORTED_OPS: readonly string[] = [
  'Placeholder',
  'Const',
  'Identity',
  'StopGradient',
  'NoOp',
  'Conv2D',
  'DepthwiseConv2dNative',
  'DepthwiseConv2d',
  '_FusedConv2D',
  'FusedDepthwiseConv2dNative',
  '_FusedDepthwiseConv2dNative',
  'MatMul',
  '_FusedMatMul',
  'BiasAdd',
  'Add',
  'AddV2',
  'Sub',
  'Mul',
  'RealDiv',
  'Div',
  'Maximum',
  'Minimum',
  'Pow',
  'SquaredDifference',
  'AddN',
  'Relu',
  'Relu6',
  'Elu',
  'Selu',
  'LeakyRelu',
  'Prelu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'LogSoftmax',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Square',
  'Sqrt',
  'Rsqrt',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Mean',
  'Max',
  'Min',
  'Sum',
  'Prod',
  'Pad',
  'PadV2',
  'MirrorPad',
  'MaxPool',
  'AvgPool',
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Transpose',
  'ConcatV2',
  'Concat',
  'StridedSlice',
  'Slice',
  'FusedBatchNorm',
  'FusedBatchNormV3',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
];

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function decodeB64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new TfjsConversionError(`${where}: shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Permutes a dense row-major tensor. */
export function permute<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p] as number);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = (inStrides[i + 1] as number) * (shape[i + 1] as number);
  const strideForOut = perm.map((p) => inStrides[p] as number);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (idx[k] as number) * (strideForOut[k] as number);
    out[o] = data[src] as number;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (outShape[k] as number)) break;
      idx[k] = 0;
    }
  }
  return out;
}

class Converter {
  private readonly g: OnnxGraphBuilder;
  private readonly values = new Map<string, Value>();
  private readonly byName: Map<string, TfNode>;
  private readonly nchwCache = new Map<string, string>();
  private readonly plainCache = new Map<string, string>();
  private readonly reserved: Set<string>;
  /** The nodes reading each node's output; graph outputs are not nodes and make a node `reserved`. */
  private readonly readers = new Map<string, TfNode[]>();
  /** Minimum/Maximum by a scalar whose Clip was deferred to its single reader, the other bound. */
  private readonly clips = new Map<string, { x: string; min?: number; max?: number }>();
  private batchDynamic = false;

  constructor(
    model: TfjsGraphModel,
    private readonly weights: Map<string, DecodedWeight>,
    name: string,
    reservedNames: readonly string[],
  ) {
    this.g = new OnnxGraphBuilder(name);
    this.byName = new Map(model.nodes.map((n) => [n.name, n]));
    this.reserved = new Set(reservedNames);
  }

  // ---------- attributes ----------
  private attrOf(n: TfNode, key: string): TfAttr | undefined {
    return n.attr[key];
  }

  private ints(n: TfNode, key: string, dflt?: number[]): number[] {
    const a = this.attrOf(n, key);
    if (!a?.list) {
      if (dflt) return dflt;
      throw new TfjsConversionError(`${n.op} ${n.name}: attribute ${key} missing`);
    }
    return (a.list.i ?? []).map((v) => Number(v));
  }

  private int(n: TfNode, key: string, dflt: number): number {
    const a = this.attrOf(n, key);
    return a?.i !== undefined ? Number(a.i) : dflt;
  }

  private float(n: TfNode, key: string, dflt: number): number {
    const a = this.attrOf(n, key);
    return typeof a?.f === 'number' ? a.f : dflt;
  }

  private bool(n: TfNode, key: string, dflt: boolean): boolean {
    const a = this.attrOf(n, key);
    return typeof a?.b === 'boolean' ? a.b : dflt;
  }

  private string(n: TfNode, key: string, dflt?: string): string {
    const a = this.attrOf(n, key);
    if (a?.s !== undefined) return decodeB64(a.s);
    if (dflt !== undefined) return dflt;
    throw new TfjsConversionError(`${n.op} ${n.name}: attribute ${key} missing`);
  }

  private strings(n: TfNode, key: string): string[] {
    return (this.attrOf(n, key)?.list?.s ?? []).map(decodeB64);
  }

  private checkNhwc(n: TfNode): void {
    const fmt = this.string(n, 'data_format', 'NHWC');
    if (fmt !== 'NHWC') throw new TfjsConversionError(`${n.op} ${n.name}: data_format ${fmt} is not supported (NHWC only)`);
  }

  // ---------- values ----------
  private hint(tfName: string): string {
    return this.reserved.has(tfName) ? `${tfName}/value` : tfName;
  }

  private inputsOf(n: TfNode): string[] {
    return n.input.filter((i) => !i.startsWith('^'));
  }

  private value(ref: string, user: TfNode): Value {
    const [base, idx] = ref.split(':') as [string, string | undefined];
    if (idx !== undefined && idx !== '0')
      throw new TfjsConversionError(`${user.op} ${user.name}: input ${ref} uses output ${idx} of a multi-output op; not supported`);
    const v = this.values.get(base);
    if (!v) throw new TfjsConversionError(`${user.op} ${user.name}: input ${ref} was not converted`);
    return v;
  }

  private constOf(ref: string, user: TfNode, what: string): DecodedWeight {
    const v = this.value(ref, user);
    if (v.kind !== 'const') throw new TfjsConversionError(`${user.op} ${user.name}: ${what} (${ref}) must be a constant`);
    return v.w;
  }

  private constInts(ref: string, user: TfNode, what: string): number[] {
    const w = this.constOf(ref, user, what);
    if (w.dtype !== 'int32') throw new TfjsConversionError(`${user.op} ${user.name}: ${what} must be int32`);
    return Array.from(w.data);
  }

  private shapeOf(v: Value): readonly number[] {
    return v.kind === 'const' ? v.w.shape : v.shape;
  }

  private plainConst(k: Konst): string {
    const key = k.tfName;
    let name = this.plainCache.get(key);
    if (!name) {
      name = this.g.initializer(this.hint(k.tfName), k.w.data, [...k.w.shape]);
      this.plainCache.set(key, name);
    }
    return name;
  }

  /** A constant shaped to broadcast against an NCHW activation the way it broadcast against NHWC in TF. */
  private nchwConst(k: Konst, user: TfNode): string {
    let name = this.nchwCache.get(k.tfName);
    if (name) return name;
    const s = k.w.shape;
    if (s.length > 4) throw new TfjsConversionError(`${user.op} ${user.name}: constant ${k.tfName} of rank ${s.length} cannot broadcast to a 4-D tensor`);
    const padded = [...new Array<number>(4 - s.length).fill(1), ...s];
    const data = permute(k.w.data, padded, TO_NCHW);
    name = this.g.initializer(
      `${this.hint(k.tfName)}/nchw`,
      data,
      TO_NCHW.map((p) => padded[p] as number),
    );
    this.nchwCache.set(k.tfName, name);
    return name;
  }

  private asPlain(v: Value): string {
    if (v.kind === 'const') return this.plainConst(v);
    if (v.layout === 'plain') return v.name;
    return this.g.node('Transpose', [v.name], { perm: attr.ints(TO_NHWC) }, `${v.name}/nhwc`);
  }

  private asNchw(v: Value, user: TfNode): string {
    if (v.kind === 'const') return this.nchwConst(v, user);
    if (v.layout === 'nchw') return v.name;
    if (v.shape.length !== 4) throw new TfjsConversionError(`${user.op} ${user.name}: expected a 4-D input, got [${v.shape.join(',')}]`);
    return this.g.node('Transpose', [v.name], { perm: attr.ints(TO_NCHW) }, `${v.name}/nchw`);
  }

  private set(n: TfNode, name: string, shape: readonly number[], layout: Layout): void {
    this.values.set(n.name, { kind: 'act', name, shape, layout });
  }

  // ---------- driver ----------
  convert(outputRefs: readonly { key: string; ref: string }[], inputKeys: Map<string, string>): ConvertResult {
    const order = this.topoOrder(outputRefs.map((o) => o.ref.split(':')[0] as string));
    for (const n of order) {
      for (const i of n.input) {
        const base = i.replace(/^\^/, '').split(':')[0] as string;
        this.readers.set(base, [...(this.readers.get(base) ?? []), n]);
      }
    }
    for (const o of outputRefs) this.reserved.add(o.ref.split(':')[0] as string);
    const inputs: { name: string; shape: (number | string)[] }[] = [];
    for (const n of order) {
      if (n.op === 'Placeholder') inputs.push(this.placeholder(n, inputKeys.get(n.name) ?? n.name));
      else this.convertNode(n);
    }
    const outputs: { name: string; shape: (number | string)[] }[] = [];
    for (const { key, ref } of outputRefs) {
      const holder: TfNode = { name: `output ${key}`, op: 'Output', input: [ref], attr: {} };
      const v = this.value(ref, holder);
      const plain = this.asPlain(v);
      const name = this.g.alias(plain, key);
      if (name !== key) throw new TfjsConversionError(`output name ${key} is taken by another tensor`);
      const shape = this.shapeOf(v).map((d, i) => (i === 0 && this.batchDynamic ? 'batch' : d));
      this.g.output(name, shape);
      outputs.push({ name, shape });
    }
    return { onnx: this.g.toBytes('facegate-tfjs'), inputs, outputs };
  }

  private topoOrder(roots: readonly string[]): TfNode[] {
    const order: TfNode[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: { name: string; expanded: boolean }[] = roots.map((name) => ({ name, expanded: false }));
    while (stack.length > 0) {
      const top = stack.pop() as { name: string; expanded: boolean };
      const n = this.byName.get(top.name);
      if (!n) throw new TfjsConversionError(`graph references missing node ${top.name}`);
      if (top.expanded) {
        if (state.get(n.name) !== 2) {
          state.set(n.name, 2);
          order.push(n);
        }
        continue;
      }
      const st = state.get(n.name);
      if (st === 2) continue;
      if (st === 1) throw new TfjsConversionError(`graph has a cycle through ${n.name}`);
      state.set(n.name, 1);
      stack.push({ name: n.name, expanded: true });
      for (const i of this.inputsOf(n)) {
        const dep = i.split(':')[0] as string;
        if (state.get(dep) === undefined) stack.push({ name: dep, expanded: false });
        else if (state.get(dep) === 1) throw new TfjsConversionError(`graph has a cycle through ${dep}`);
      }
    }
    return order;
  }

  private placeholder(n: TfNode, key: string): { name: string; shape: (number | string)[] } {
    const shapeAttr = this.attrOf(n, 'shape')?.shape as { dim?: { size?: string | number }[]; unknownRank?: boolean } | undefined;
    const dims = (shapeAttr?.dim ?? []).map((d) => Number(d.size ?? -1));
    if (dims.length !== 4) throw new TfjsConversionError(`input ${n.name}: only 4-D NHWC image inputs are supported, got shape [${dims.join(',')}]`);
    for (let i = 1; i < 4; i++) {
      if (!((dims[i] as number) > 0)) throw new TfjsConversionError(`input ${n.name}: dimension ${i} must be static, got ${dims[i]}`);
    }
    this.batchDynamic = (dims[0] as number) < 0;
    const onnxShape: (number | string)[] = dims.map((d, i) => (i === 0 && d < 0 ? 'batch' : d));
    const name = this.g.input(key, onnxShape);
    const logical = dims.map((d) => (d < 0 ? 1 : d));
    const t = this.g.node('Transpose', [name], { perm: attr.ints(TO_NCHW) }, `${key}/nchw`);
    this.set(n, t, logical, 'nchw');
    return { name, shape: onnxShape };
  }

  // ---------- ops ----------
  private convertNode(n: TfNode): void {
    const ins = this.inputsOf(n);
    switch (n.op) {
      case 'Const': {
        const w = this.weights.get(n.name);
        if (!w) throw new TfjsConversionError(`Const ${n.name} has no weight in the manifest (inline constants are not supported)`);
        this.values.set(n.name, { kind: 'const', tfName: n.name, w });
        return;
      }
      case 'Identity':
      case 'StopGradient': {
        this.values.set(n.name, this.value(ins[0] as string, n));
        return;
      }
      case 'NoOp':
        return;
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case 'DepthwiseConv2d':
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
      case '_FusedDepthwiseConv2dNative':
        this.conv(n, ins);
        return;
      case 'MatMul':
      case '_FusedMatMul':
        this.matmul(n, ins);
        return;
      case 'BiasAdd':
        this.checkNhwc(n);
        this.binary(n, 'Add', ins);
        return;
      case 'Add':
      case 'AddV2':
        this.binary(n, 'Add', ins);
        return;
      case 'Sub':
        this.binary(n, 'Sub', ins);
        return;
      case 'Mul':
        this.binary(n, 'Mul', ins);
        return;
      case 'RealDiv':
      case 'Div':
        this.binary(n, 'Div', ins);
        return;
      case 'Maximum':
        if (!this.clamp(n, ins, 'min')) this.binary(n, 'Max', ins);
        return;
      case 'Minimum':
        if (!this.clamp(n, ins, 'max')) this.binary(n, 'Min', ins);
        return;
      case 'Pow':
        this.binary(n, 'Pow', ins);
        return;
      case 'SquaredDifference': {
        this.binary(n, 'Sub', ins);
        const d = this.values.get(n.name) as Act;
        this.set(n, this.g.node('Mul', [d.name, d.name], {}, this.hint(n.name)), d.shape, d.layout);
        return;
      }
      case 'AddN': {
        if (ins.length < 1) throw new TfjsConversionError(`AddN ${n.name}: no inputs`);
        const vals = ins.map((i) => this.value(i, n));
        const nchw = vals.some((v) => v.kind === 'act' && v.layout === 'nchw') && vals.every((v) => this.shapeOf(v).length === 4);
        const shape = vals.map((v) => this.shapeOf(v)).reduce((a, b) => broadcastShapes(a, b, `AddN ${n.name}`));
        const names = vals.map((v) => (nchw ? this.asNchw(v, n) : this.asPlain(v)));
        this.set(n, this.g.node('Sum', names, {}, this.hint(n.name)), shape, nchw ? 'nchw' : 'plain');
        return;
      }
      case 'Relu':
        return this.unary(n, ins, 'Relu');
      case 'Sigmoid':
        return this.unary(n, ins, 'Sigmoid');
      case 'Tanh':
        return this.unary(n, ins, 'Tanh');
      case 'Elu':
        return this.unary(n, ins, 'Elu');
      case 'Selu':
        return this.unary(n, ins, 'Selu');
      case 'Neg':
        return this.unary(n, ins, 'Neg');
      case 'Abs':
        return this.unary(n, ins, 'Abs');
      case 'Exp':
        return this.unary(n, ins, 'Exp');
      case 'Log':
        return this.unary(n, ins, 'Log');
      case 'Sqrt':
        return this.unary(n, ins, 'Sqrt');
      case 'Reciprocal':
        return this.unary(n, ins, 'Reciprocal');
      case 'Floor':
        return this.unary(n, ins, 'Floor');
      case 'Ceil':
        return this.unary(n, ins, 'Ceil');
      case 'LeakyRelu':
        return this.unary(n, ins, 'LeakyRelu', { alpha: attr.float(this.float(n, 'alpha', 0.2)) });
      case 'Relu6':
      case 'Square':
      case 'Rsqrt': {
        const x = this.act(ins[0] as string, n);
        this.set(n, this.activation(n.op, x.name, n, undefined, x.layout), x.shape, x.layout);
        return;
      }
      case 'Prelu': {
        const x = this.act(ins[0] as string, n);
        this.set(n, this.activation('Prelu', x.name, n, this.value(ins[1] as string, n), x.layout), x.shape, x.layout);
        return;
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const x = this.act(ins[0] as string, n);
        // TF normalises over the last (channel) axis, which is axis 1 once NCHW.
        const axis = x.layout === 'nchw' ? 1 : x.shape.length - 1;
        this.set(n, this.g.node(n.op, [x.name], { axis: attr.int(axis) }, this.hint(n.name)), x.shape, x.layout);
        return;
      }
      case 'Mean':
      case 'Max':
      case 'Min':
      case 'Sum':
      case 'Prod':
        this.reduce(n, ins);
        return;
      case 'Pad':
      case 'PadV2':
      case 'MirrorPad':
        this.pad(n, ins);
        return;
      case 'MaxPool':
      case 'AvgPool':
        this.pool(n, ins);
        return;
      case 'Reshape':
        this.reshape(n, ins);
        return;
      case 'Squeeze':
        this.squeeze(n, ins);
        return;
      case 'ExpandDims':
        this.expandDims(n, ins);
        return;
      case 'Transpose': {
        const x = this.value(ins[0] as string, n);
        const perm = this.constInts(ins[1] as string, n, 'perm');
        const s = this.shapeOf(x);
        this.set(
          n,
          this.g.node('Transpose', [this.asPlain(x)], { perm: attr.ints(perm) }, this.hint(n.name)),
          perm.map((p) => s[p] as number),
          'plain',
        );
        return;
      }
      case 'ConcatV2':
      case 'Concat':
        this.concat(n, ins);
        return;
      case 'StridedSlice':
      case 'Slice':
        this.slice(n, ins);
        return;
      case 'FusedBatchNorm':
      case 'FusedBatchNormV3':
        this.batchNorm(n, ins);
        return;
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor':
        this.resize(n, ins);
        return;
      default:
        throw new TfjsConversionError(`op ${n.op} (node ${n.name}) is not supported; supported: ${SUPPORTED_OPS.join(', ')}`);
    }
  }

  /** An activation input; constants are materialised in TF layout. */
  private act(ref: string, user: TfNode): Act {
    const v = this.value(ref, user);
    if (v.kind === 'act') return v;
    return { kind: 'act', name: this.plainConst(v), shape: v.w.shape, layout: 'plain' };
  }

  private unary(n: TfNode, ins: string[], op: string, attrs: Record<string, Attr> = {}): void {
    const x = this.act(ins[0] as string, n);
    this.set(n, this.g.node(op, [x.name], attrs, this.hint(n.name)), x.shape, x.layout);
  }

  /** Emits an activation (also used after fused conv/matmul). */
  private activation(kind: string, x: string, n: TfNode, alpha: Value | undefined, layout: Layout): string {
    const h = this.hint(n.name);
    switch (kind) {
      case 'Relu':
        return this.g.node('Relu', [x], {}, h);
      case 'Relu6':
        return this.g.node('Clip', [x, this.g.constFloat(`${h}/min`, [0], []), this.g.constFloat(`${h}/max`, [6], [])], {}, h);
      case 'Elu':
        return this.g.node('Elu', [x], {}, h);
      case 'Sigmoid':
        return this.g.node('Sigmoid', [x], {}, h);
      case 'Tanh':
        return this.g.node('Tanh', [x], {}, h);
      case 'LeakyRelu':
        return this.g.node('LeakyRelu', [x], { alpha: attr.float(this.float(n, 'leakyrelu_alpha', this.float(n, 'alpha', 0.2))) }, h);
      case 'Square':
        return this.g.node('Mul', [x, x], {}, h);
      case 'Rsqrt':
        return this.g.node('Reciprocal', [this.g.node('Sqrt', [x], {}, `${h}/sqrt`)], {}, h);
      case 'Prelu': {
        if (!alpha) throw new TfjsConversionError(`${n.op} ${n.name}: Prelu needs an alpha input`);
        const a = layout === 'nchw' ? this.asNchw(alpha, n) : this.asPlain(alpha);
        return this.g.node('PRelu', [x, a], {}, h);
      }
      default:
        throw new TfjsConversionError(`${n.op} ${n.name}: fused activation ${kind} is not supported`);
    }
  }

  /**
   * Minimum/Maximum against a scalar constant become Clip (ReLU6 is exported as Relu -> Minimum(6) ->
   * Maximum(0)); a bound applied to a single-use Clip merges into it. ORT fuses Clip into the preceding
   * convolution, which it cannot do for Min/Max.
   */
  private scalarBound(n: TfNode): { x: string; c: number } | undefined {
    if ((n.op !== 'Minimum' && n.op !== 'Maximum') || n.input.length !== 2) return undefined;
    const ci = n.input.findIndex((i) => {
      const w = this.weights.get(i.split(':')[0] as string);
      return this.byName.get(i.split(':')[0] as string)?.op === 'Const' && w?.dtype === 'float32' && w.data.length === 1 && w.shape.length === 0;
    });
    if (ci < 0) return undefined;
    const c = this.weights.get((n.input[ci] as string).split(':')[0] as string)?.data[0] as number;
    return { x: n.input[1 - ci] as string, c };
  }

  private clamp(n: TfNode, _ins: string[], bound: 'min' | 'max'): boolean {
    const b = this.scalarBound(n);
    if (!b) return false;
    const x = this.value(b.x, n);
    if (x.kind !== 'act') return false;
    const producer = b.x.split(':')[0] as string;
    const prev = this.clips.get(producer);
    const spec: { x: string; min?: number; max?: number } = prev ? { ...prev, [bound]: b.c } : { x: x.name, [bound]: b.c };
    // Defer when the only reader applies the other bound: it emits one Clip with both.
    const readers = this.readers.get(n.name) ?? [];
    const r = readers[0];
    const other = bound === 'min' ? 'Minimum' : 'Maximum';
    if (!prev && readers.length === 1 && r && r.op === other && this.scalarBound(r)?.x.split(':')[0] === n.name && !this.reserved.has(n.name)) {
      this.values.set(n.name, x);
      this.clips.set(n.name, spec);
      return true;
    }
    const h = this.hint(n.name);
    const lo = spec.min !== undefined ? this.g.constFloat(`${h}/min`, [spec.min], []) : '';
    const inputs = spec.max !== undefined ? [spec.x, lo, this.g.constFloat(`${h}/max`, [spec.max], [])] : [spec.x, lo];
    this.set(n, this.g.node('Clip', inputs, {}, h), x.shape, x.layout);
    return true;
  }

  private binary(n: TfNode, op: string, ins: string[]): void {
    if (ins.length !== 2) throw new TfjsConversionError(`${n.op} ${n.name}: expected 2 inputs, got ${ins.length}`);
    const a = this.value(ins[0] as string, n);
    const b = this.value(ins[1] as string, n);
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    const shape = broadcastShapes(sa, sb, `${n.op} ${n.name}`);
    const isNchw = (v: Value): boolean => v.kind === 'act' && v.layout === 'nchw';
    // Stay NCHW when an operand already is and the other can be laid out to match: a constant of rank <= 4,
    // or a rank-4 activation.
    const fits = (v: Value): boolean => (v.kind === 'const' ? v.w.shape.length <= 4 : v.shape.length === 4);
    const nchw = (isNchw(a) || isNchw(b)) && shape.length === 4 && fits(a) && fits(b);
    const names = nchw ? [this.asNchw(a, n), this.asNchw(b, n)] : [this.asPlain(a), this.asPlain(b)];
    this.set(n, this.g.node(op, names, {}, this.hint(n.name)), shape, nchw ? 'nchw' : 'plain');
  }

  private padsFor(
    n: TfNode,
    inH: number,
    inW: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
  ): { pads: number[]; outH: number; outW: number } {
    const padding = this.string(n, 'padding');
    if (padding === 'EXPLICIT') {
      const e = this.ints(n, 'explicit_paddings');
      if (e.length !== 8) throw new TfjsConversionError(`${n.op} ${n.name}: explicit_paddings must have 8 values`);
      const [t, b, l, r] = [e[2] as number, e[3] as number, e[4] as number, e[5] as number];
      const outH = Math.floor((inH + t + b - ((kh - 1) * dh + 1)) / sh) + 1;
      const outW = Math.floor((inW + l + r - ((kw - 1) * dw + 1)) / sw) + 1;
      return { pads: [t, l, b, r], outH, outW };
    }
    if (padding !== 'SAME' && padding !== 'VALID') throw new TfjsConversionError(`${n.op} ${n.name}: padding ${padding} is not supported`);
    const ph = windowPads(inH, kh, sh, dh, padding);
    const pw = windowPads(inW, kw, sw, dw, padding);
    return { pads: [ph.begin, pw.begin, ph.end, pw.end], outH: ph.out, outW: pw.out };
  }

  private conv(n: TfNode, ins: string[]): void {
    this.checkNhwc(n);
    const depthwise = n.op.includes('Depthwise');
    const fused = n.op.startsWith('_Fused') || n.op.startsWith('Fused');
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    if (xs.length !== 4) throw new TfjsConversionError(`${n.op} ${n.name}: input must be 4-D`);
    const x = this.asNchw(xv, n);
    const f = this.constOf(ins[1] as string, n, 'filter');
    if (f.dtype !== 'float32' || f.shape.length !== 4) throw new TfjsConversionError(`${n.op} ${n.name}: filter must be a 4-D float tensor`);
    const [kh, kw, cin, cout] = f.shape as [number, number, number, number];
    const inC = xs[3] as number;
    const strides = this.ints(n, 'strides');
    const dil = this.ints(n, 'dilations', [1, 1, 1, 1]);
    if (strides[0] !== 1 || strides[3] !== 1) throw new TfjsConversionError(`${n.op} ${n.name}: strides over batch/channels are not supported`);
    let w: Float32Array;
    let wShape: number[];
    let group = 1;
    let outC: number;
    if (depthwise) {
      if (cin !== inC) throw new TfjsConversionError(`${n.op} ${n.name}: filter has ${cin} input channels, input has ${inC}`);
      // [kh, kw, in, mult] -> [in*mult, 1, kh, kw]; output channel i*mult+m as in TF.
      w = permute(f.data as Float32Array, [kh, kw, cin * cout], [2, 0, 1]);
      wShape = [cin * cout, 1, kh, kw];
      group = cin;
      outC = cin * cout;
    } else {
      if (inC % cin !== 0) throw new TfjsConversionError(`${n.op} ${n.name}: filter has ${cin} input channels, input has ${inC}`);
      group = inC / cin;
      // HWIO -> OIHW
      w = permute(f.data as Float32Array, [kh, kw, cin, cout], [3, 2, 0, 1]);
      wShape = [cout, cin, kh, kw];
      outC = cout;
    }
    const { pads, outH, outW } = this.padsFor(
      n,
      xs[1] as number,
      xs[2] as number,
      kh,
      kw,
      strides[1] as number,
      strides[2] as number,
      dil[1] as number,
      dil[2] as number,
    );
    let bias: Float32Array | undefined;
    let acts: string[] = [];
    let alpha: Value | undefined;
    if (fused) {
      const ops = this.strings(n, 'fused_ops');
      const args = ins.slice(2);
      let argi = 0;
      let k = 0;
      if (ops[0] === 'BiasAdd') {
        const b = this.constOf(args[argi++] as string, n, 'bias');
        if (b.data.length !== outC) throw new TfjsConversionError(`${n.op} ${n.name}: bias has ${b.data.length} values for ${outC} channels`);
        bias = Float32Array.from(b.data);
        k = 1;
      } else if (ops[0] === 'FusedBatchNorm') {
        const [scale, offset, mean, variance] = [0, 1, 2, 3].map((j) => this.constOf(args[argi + j] as string, n, 'batch norm parameter').data);
        argi += 4;
        const eps = this.float(n, 'epsilon', 0.001);
        bias = new Float32Array(outC);
        const per = w.length / outC;
        for (let c = 0; c < outC; c++) {
          const s = (scale?.[c] as number) / Math.sqrt((variance?.[c] as number) + eps);
          for (let j = 0; j < per; j++) w[c * per + j] = (w[c * per + j] as number) * s;
          bias[c] = (offset?.[c] as number) - (mean?.[c] as number) * s;
        }
        k = 1;
      }
      acts = ops.slice(k);
      if (acts.length > 1) throw new TfjsConversionError(`${n.op} ${n.name}: fused_ops ${ops.join(',')} not supported`);
      if (acts[0] === 'Prelu') alpha = this.value(args[argi] as string, n);
    }
    const inputs = [x, this.g.initializer(`${this.hint(n.name)}/W`, w, wShape)];
    if (bias) inputs.push(this.g.initializer(`${this.hint(n.name)}/B`, bias, [outC]));
    let y = this.g.node(
      'Conv',
      inputs,
      {
        kernel_shape: attr.ints([kh, kw]),
        strides: attr.ints([strides[1] as number, strides[2] as number]),
        dilations: attr.ints([dil[1] as number, dil[2] as number]),
        pads: attr.ints(pads),
        group: attr.int(group),
      },
      acts.length ? `${this.hint(n.name)}/conv` : this.hint(n.name),
    );
    if (acts[0]) y = this.activation(acts[0], y, n, alpha, 'nchw');
    this.set(n, y, [xs[0] as number, outH, outW, outC], 'nchw');
  }

  private matmul(n: TfNode, ins: string[]): void {
    const a = this.value(ins[0] as string, n);
    const b = this.value(ins[1] as string, n);
    const ta = this.bool(n, 'transpose_a', false);
    const tb = this.bool(n, 'transpose_b', false);
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    if (sa.length !== 2 || sb.length !== 2) throw new TfjsConversionError(`${n.op} ${n.name}: only 2-D MatMul is supported`);
    const m = ta ? sa[1] : sa[0];
    const ka = ta ? sa[0] : sa[1];
    const kb = tb ? sb[1] : sb[0];
    const nOut = (tb ? sb[0] : sb[1]) as number;
    if (ka !== kb) throw new TfjsConversionError(`${n.op} ${n.name}: inner dimensions ${ka} and ${kb} differ`);
    const inputs = [this.asMatrix(a, n), this.asPlain(b)];
    let acts: string[] = [];
    let alpha: Value | undefined;
    if (n.op === '_FusedMatMul') {
      const ops = this.strings(n, 'fused_ops');
      const args = ins.slice(2);
      let argi = 0;
      if (ops[0] === 'BiasAdd') {
        inputs.push(this.asPlain(this.value(args[argi++] as string, n)));
        acts = ops.slice(1);
      } else {
        acts = ops;
      }
      if (acts.length > 1) throw new TfjsConversionError(`${n.op} ${n.name}: fused_ops ${ops.join(',')} not supported`);
      if (acts[0] === 'Prelu') alpha = this.value(args[argi] as string, n);
    }
    let y = this.g.node(
      'Gemm',
      inputs,
      { transA: attr.int(ta ? 1 : 0), transB: attr.int(tb ? 1 : 0) },
      acts.length ? `${this.hint(n.name)}/gemm` : this.hint(n.name),
    );
    if (acts[0]) y = this.activation(acts[0], y, n, alpha, 'plain');
    this.set(n, y, [m as number, nOut], 'plain');
  }

  /** A 2-D view; a NCHW tensor with 1x1 spatial size has the same memory order as NHWC. */
  private asMatrix(v: Value, _n: TfNode): string {
    return this.asPlain(v);
  }

  private reduce(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    const rank = xs.length;
    const axes = [...new Set(this.constInts(ins[1] as string, n, 'reduction axes').map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    if (axes.some((a) => a < 0 || a >= rank)) throw new TfjsConversionError(`${n.op} ${n.name}: axis out of range`);
    const keep = this.bool(n, 'keep_dims', false);
    const remaining = xs.map((_, i) => i).filter((i) => !axes.includes(i));
    // Without keep_dims the NCHW result is in NHWC order only if C does not remain beside H or W.
    const orderSafe = keep || !(remaining.includes(3) && (remaining.includes(1) || remaining.includes(2)));
    const nchw = xv.kind === 'act' && xv.layout === 'nchw' && orderSafe;
    const x = nchw ? xv.name : this.asPlain(xv);
    const onnxAxes = nchw ? axes.map((a) => NHWC_TO_NCHW_AXIS[a] as number) : axes;
    const op = { Mean: 'ReduceMean', Max: 'ReduceMax', Min: 'ReduceMin', Sum: 'ReduceSum', Prod: 'ReduceProd' }[n.op] as string;
    const h = this.hint(n.name);
    const y =
      op === 'ReduceSum'
        ? this.g.node(op, [x, this.g.constInt64(`${h}/axes`, onnxAxes)], { keepdims: attr.int(keep ? 1 : 0) }, h)
        : this.g.node(op, [x], { axes: attr.ints(onnxAxes), keepdims: attr.int(keep ? 1 : 0) }, h);
    const shape = keep ? xs.map((d, i) => (axes.includes(i) ? 1 : d)) : remaining.map((i) => xs[i] as number);
    this.set(n, y, shape, nchw && keep ? 'nchw' : 'plain');
  }

  private pad(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    const p = this.constInts(ins[1] as string, n, 'paddings');
    if (p.length !== 2 * xs.length) throw new TfjsConversionError(`${n.op} ${n.name}: paddings do not match rank ${xs.length}`);
    let mode = 'constant';
    if (n.op === 'MirrorPad') {
      const m = this.string(n, 'mode');
      if (m !== 'REFLECT') throw new TfjsConversionError(`MirrorPad ${n.name}: mode ${m} has no ONNX equivalent`);
      mode = 'reflect';
    }
    const nchw = xv.kind === 'act' && xv.layout === 'nchw';
    const x = nchw ? xv.name : this.asPlain(xv);
    const order = nchw ? TO_NCHW : xs.map((_, i) => i);
    const begins = order.map((a) => p[2 * a] as number);
    const ends = order.map((a) => p[2 * a + 1] as number);
    const h = this.hint(n.name);
    const inputs = [x, this.g.constInt64(`${h}/pads`, [...begins, ...ends])];
    if (n.op === 'PadV2') {
      const c = this.constOf(ins[2] as string, n, 'constant value');
      inputs.push(this.g.constFloat(`${h}/value`, [c.data[0] as number], []));
    }
    const shape = xs.map((d, i) => d + (p[2 * i] as number) + (p[2 * i + 1] as number));
    this.set(n, this.g.node('Pad', inputs, { mode: attr.string(mode) }, h), shape, nchw ? 'nchw' : 'plain');
  }

  private pool(n: TfNode, ins: string[]): void {
    this.checkNhwc(n);
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    if (xs.length !== 4) throw new TfjsConversionError(`${n.op} ${n.name}: input must be 4-D`);
    const k = this.ints(n, 'ksize');
    const s = this.ints(n, 'strides');
    if (k[0] !== 1 || k[3] !== 1 || s[0] !== 1 || s[3] !== 1) throw new TfjsConversionError(`${n.op} ${n.name}: pooling over batch/channels is not supported`);
    const { pads, outH, outW } = this.padsFor(n, xs[1] as number, xs[2] as number, k[1] as number, k[2] as number, s[1] as number, s[2] as number, 1, 1);
    // TF's SAME average pool divides by the number of real pixels: count_include_pad=0.
    const attrs: Record<string, Attr> = {
      kernel_shape: attr.ints([k[1] as number, k[2] as number]),
      strides: attr.ints([s[1] as number, s[2] as number]),
      pads: attr.ints(pads),
    };
    if (n.op === 'AvgPool') attrs.count_include_pad = attr.int(0);
    const y = this.g.node(n.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [this.asNchw(xv, n)], attrs, this.hint(n.name));
    this.set(n, y, [xs[0] as number, outH, outW, xs[3] as number], 'nchw');
  }

  private resolveShape(n: TfNode, target: readonly number[], count: number): number[] {
    const unknown = target.filter((d) => d === -1).length;
    if (unknown > 1) throw new TfjsConversionError(`${n.op} ${n.name}: more than one -1 in shape`);
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = target.map((d) => (d === -1 ? count / known : d));
    if (prod(out) !== count || out.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TfjsConversionError(`${n.op} ${n.name}: cannot reshape ${count} values to [${target.join(',')}]`);
    }
    return out;
  }

  private reshape(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    const target = this.constInts(ins[1] as string, n, 'shape');
    const shape = this.resolveShape(n, target, prod(xs));
    // NCHW with 1x1 spatial size is byte-identical to NHWC: no transpose needed before flattening.
    const x = xv.kind === 'act' && xv.layout === 'nchw' && xs[1] === 1 && xs[2] === 1 ? xv.name : this.asPlain(xv);
    const h = this.hint(n.name);
    this.set(n, this.g.node('Reshape', [x, this.g.constInt64(`${h}/shape`, target)], {}, h), shape, 'plain');
  }

  private squeeze(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    let dims = this.ints(n, 'squeeze_dims', []).map((a) => (a < 0 ? a + xs.length : a));
    if (dims.length === 0) dims = xs.map((d, i) => (d === 1 && i !== 0 ? i : -1)).filter((i) => i >= 0);
    for (const d of dims) if (xs[d] !== 1) throw new TfjsConversionError(`Squeeze ${n.name}: dimension ${d} is ${xs[d]}, not 1`);
    const h = this.hint(n.name);
    const y = this.g.node('Squeeze', [this.asPlain(xv), this.g.constInt64(`${h}/axes`, dims)], {}, h);
    this.set(
      n,
      y,
      xs.filter((_, i) => !dims.includes(i)),
      'plain',
    );
  }

  private expandDims(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    let [axis] = this.constInts(ins[1] as string, n, 'axis') as [number];
    if (axis < 0) axis += xs.length + 1;
    const h = this.hint(n.name);
    const y = this.g.node('Unsqueeze', [this.asPlain(xv), this.g.constInt64(`${h}/axes`, [axis])], {}, h);
    const shape = [...xs];
    shape.splice(axis, 0, 1);
    this.set(n, y, shape, 'plain');
  }

  private concat(n: TfNode, ins: string[]): void {
    const axisRef = n.op === 'ConcatV2' ? ins[ins.length - 1] : ins[0];
    const parts = (n.op === 'ConcatV2' ? ins.slice(0, -1) : ins.slice(1)).map((i) => this.value(i, n));
    const shapes = parts.map((p) => this.shapeOf(p));
    const rank = (shapes[0] as readonly number[]).length;
    let [axis] = this.constInts(axisRef as string, n, 'axis') as [number];
    if (axis < 0) axis += rank;
    const shape = [...(shapes[0] as readonly number[])];
    shape[axis] = shapes.reduce((a, s) => a + (s[axis] as number), 0);
    const nchw = rank === 4 && parts.some((p) => p.kind === 'act' && p.layout === 'nchw');
    const names = parts.map((p) => (nchw ? this.asNchw(p, n) : this.asPlain(p)));
    const y = this.g.node('Concat', names, { axis: attr.int(nchw ? (NHWC_TO_NCHW_AXIS[axis] as number) : axis) }, this.hint(n.name));
    this.set(n, y, shape, nchw ? 'nchw' : 'plain');
  }

  private slice(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    const begin = this.constInts(ins[1] as string, n, 'begin');
    const h = this.hint(n.name);
    let starts: number[];
    let ends: number[];
    let steps: number[];
    let shrink: number[] = [];
    if (n.op === 'Slice') {
      const size = this.constInts(ins[2] as string, n, 'size');
      starts = begin;
      ends = begin.map((b, i) => ((size[i] as number) < 0 ? (xs[i] as number) : b + (size[i] as number)));
      steps = begin.map(() => 1);
    } else {
      if (this.int(n, 'ellipsis_mask', 0) !== 0 || this.int(n, 'new_axis_mask', 0) !== 0) {
        throw new TfjsConversionError(`StridedSlice ${n.name}: ellipsis_mask/new_axis_mask are not supported`);
      }
      const end = this.constInts(ins[2] as string, n, 'end');
      steps = this.constInts(ins[3] as string, n, 'strides');
      const bm = this.int(n, 'begin_mask', 0);
      const em = this.int(n, 'end_mask', 0);
      const sm = this.int(n, 'shrink_axis_mask', 0);
      const BIG = 2 ** 31 - 1;
      starts = begin.map((b, i) => (bm & (1 << i) ? ((steps[i] as number) > 0 ? 0 : BIG) : b));
      ends = end.map((e, i) => {
        if (sm & (1 << i)) return (begin[i] as number) === -1 ? BIG : (begin[i] as number) + 1;
        return em & (1 << i) ? ((steps[i] as number) > 0 ? BIG : -BIG) : e;
      });
      shrink = begin.map((_, i) => i).filter((i) => sm & (1 << i));
    }
    const axes = starts.map((_, i) => i);
    let y = this.g.node(
      'Slice',
      [
        this.asPlain(xv),
        this.g.constInt64(`${h}/starts`, starts),
        this.g.constInt64(`${h}/ends`, ends),
        this.g.constInt64(`${h}/axes`, axes),
        this.g.constInt64(`${h}/steps`, steps),
      ],
      {},
      shrink.length ? `${h}/slice` : h,
    );
    const shape = xs.map((d, i) => {
      if (i >= starts.length) return d;
      const st = steps[i] as number;
      const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
      let s = starts[i] as number;
      let e = ends[i] as number;
      if (s < 0) s += d;
      if (e < 0 && e > -(2 ** 31 - 1)) e += d;
      s = st > 0 ? clamp(s, 0, d) : clamp(s, -1, d - 1);
      e = st > 0 ? clamp(e, 0, d) : clamp(e, -1, d - 1);
      return Math.max(0, Math.ceil((e - s) / st));
    });
    if (shrink.length) y = this.g.node('Squeeze', [y, this.g.constInt64(`${h}/shrink`, shrink)], {}, h);
    this.set(
      n,
      y,
      shape.filter((_, i) => !shrink.includes(i)),
      'plain',
    );
  }

  private batchNorm(n: TfNode, ins: string[]): void {
    this.checkNhwc(n);
    const x = this.value(ins[0] as string, n);
    const [scale, offset, mean, variance] = [1, 2, 3, 4].map((j) => this.constOf(ins[j] as string, n, 'batch norm parameter').data);
    const eps = this.float(n, 'epsilon', 0.001);
    const c = (scale as Float32Array | Int32Array).length;
    const mul = new Float32Array(c);
    const add = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      mul[i] = (scale?.[i] as number) / Math.sqrt((variance?.[i] as number) + eps);
      add[i] = (offset?.[i] as number) - (mean?.[i] as number) * (mul[i] as number);
    }
    const xs = this.shapeOf(x);
    const nchw = xs.length === 4;
    const dims = nchw ? [1, c, 1, 1] : [c];
    const h = this.hint(n.name);
    const xin = nchw ? this.asNchw(x, n) : this.asPlain(x);
    const y = this.g.node(
      'Add',
      [this.g.node('Mul', [xin, this.g.constFloat(`${h}/mul`, mul, dims)], {}, `${h}/scaled`), this.g.constFloat(`${h}/add`, add, dims)],
      {},
      h,
    );
    this.set(n, y, xs, nchw ? 'nchw' : 'plain');
  }

  private resize(n: TfNode, ins: string[]): void {
    const xv = this.value(ins[0] as string, n);
    const xs = this.shapeOf(xv);
    const size = this.constInts(ins[1] as string, n, 'size');
    const alignCorners = this.bool(n, 'align_corners', false);
    const halfPixel = this.bool(n, 'half_pixel_centers', false);
    const linear = n.op === 'ResizeBilinear';
    const ctm = alignCorners ? 'align_corners' : halfPixel ? (linear ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
    const h = this.hint(n.name);
    const x = this.asNchw(xv, n);
    // sizes = [N, C] of the input + the requested [H, W], so a dynamic batch still works.
    const nc = this.g.node(
      'Slice',
      [this.g.node('Shape', [x], {}, `${h}/shape`), this.g.constInt64(`${h}/s0`, [0]), this.g.constInt64(`${h}/s1`, [2])],
      {},
      `${h}/nc`,
    );
    const sizes = this.g.node('Concat', [nc, this.g.constInt64(`${h}/hw`, size)], { axis: attr.int(0) }, `${h}/sizes`);
    const y = this.g.node(
      'Resize',
      [x, this.g.constFloat(`${h}/roi`, [], [0]), this.g.constFloat(`${h}/scales`, [], [0]), sizes],
      {
        mode: attr.string(linear ? 'linear' : 'nearest'),
        coordinate_transformation_mode: attr.string(ctm),
        ...(linear ? {} : { nearest_mode: attr.string(alignCorners ? 'round_prefer_ceil' : 'floor') }),
      },
      h,
    );
    this.set(n, y, [xs[0] as number, size[0] as number, size[1] as number, xs[3] as number], 'nchw');
  }
}

/**
 * Converts a tfjs graph model to ONNX. `readWeightFile` returns the bytes of each path the manifest names.
 * Graph inputs are NHWC float tensors named by their signature keys; outputs are named by their signature
 * keys (or by `opts.outputs`).
 */
export function convertTfjsGraph(modelJson: string | Uint8Array, readWeightFile: (path: string) => Uint8Array, opts: ConvertOptions = {}): ConvertResult {
  const model = parseModelJson(modelJson);
  const weights = decodeWeights(model.weightsManifest, readWeightFile);
  const strip = (ref: string): string => (ref.endsWith(':0') ? ref.slice(0, -2) : ref);
  let outputRefs: { key: string; ref: string }[];
  if (opts.outputs) {
    outputRefs = opts.outputs.map((key) => ({ key, ref: strip(model.outputs.get(key)?.name ?? key) }));
  } else if (model.outputs.size > 0) {
    outputRefs = [...model.outputs].map(([key, e]) => ({ key, ref: strip(e.name) }));
  } else {
    const used = new Set(model.nodes.flatMap((n) => n.input.map((i) => i.replace(/^\^/, '').split(':')[0])));
    outputRefs = model.nodes.filter((n) => !used.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => ({ key: n.name, ref: n.name }));
  }
  if (outputRefs.length === 0) throw new TfjsConversionError('model has no outputs');
  const inputKeys = new Map<string, string>();
  for (const [key, e] of model.inputs) inputKeys.set(strip(e.name), key);
  const conv = new Converter(model, weights, opts.name ?? 'tfjs', [...outputRefs.map((o) => o.key), ...inputKeys.values()]);
  return conv.convert(outputRefs, inputKeys);
}
