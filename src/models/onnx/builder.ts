import { createRequire } from 'node:module';
import type * as OnnxProtoModule from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

// onnx-proto is CommonJS without named ESM exports.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof OnnxProtoModule;

export type TensorData = Float32Array | Int32Array | BigInt64Array;

/** A typed attribute value; plain numbers are ambiguous between INT and FLOAT in ONNX. */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: { data: TensorData; dims: number[] } };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (data: TensorData, dims: number[]): Attr => ({ kind: 'tensor', value: { data, dims } }),
};

function elemType(data: TensorData): number {
  if (data instanceof Float32Array) return onnx.TensorProto.DataType.FLOAT;
  if (data instanceof Int32Array) return onnx.TensorProto.DataType.INT32;
  return onnx.TensorProto.DataType.INT64;
}

function tensorProto(name: string, data: TensorData, dims: number[]): P.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`tensor ${name}: dims [${dims.join(',')}] need ${count} values, got ${data.length}`);
  return {
    name,
    dims,
    dataType: elemType(data),
    // raw_data is little-endian on every platform we target (x86_64, aarch64).
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function attributeProto(name: string, a: Attr): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto(name, a.value.data, a.value.dims) };
  }
}

function valueInfo(name: string, dims: (number | string)[], type: number): P.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Builds an ONNX graph in memory. Converters (tfjs graph models, face-api weight manifests) emit nodes through
 * this so that they share naming, constant handling and serialisation.
 */
export class OnnxGraphBuilder {
  private readonly nodes: P.INodeProto[] = [];
  private readonly inits: P.ITensorProto[] = [];
  private readonly inputs: P.IValueInfoProto[] = [];
  private readonly outputs: P.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(
    readonly graphName: string,
    readonly opset = 13,
  ) {}

  /** A fresh tensor name, unique within the graph. */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 't';
    let name = base;
    while (this.names.has(name)) name = `${base}__${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: (number | string)[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims, onnx.TensorProto.DataType.FLOAT));
    return name;
  }

  output(name: string, dims: (number | string)[] = []): void {
    this.outputs.push(valueInfo(name, dims, onnx.TensorProto.DataType.FLOAT));
  }

  initializer(hint: string, data: TensorData, dims: number[]): string {
    const name = this.fresh(hint);
    this.inits.push(tensorProto(name, data, dims));
    return name;
  }

  constInt64(hint: string, values: number[]): string {
    return this.initializer(hint, BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
  }

  constFloat(hint: string, values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.initializer(hint, Float32Array.from(values), dims);
  }

  /** Adds a node; returns its output names (one per requested output). */
  nodeN(op: string, inputs: string[], attrs: Record<string, Attr> = {}, nOutputs = 1, hint = op): string[] {
    const outs = Array.from({ length: nOutputs }, (_, i) => this.fresh(nOutputs === 1 ? hint : `${hint}:${i}`));
    this.nodes.push({
      opType: op,
      name: this.fresh(`node/${hint}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return outs;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, hint = op): string {
    const [out] = this.nodeN(op, inputs, attrs, 1, hint);
    return out as string;
  }

  /** Renames the output of the last node that produced `from` so the graph exposes a stable name. */
  alias(from: string, to: string): string {
    return this.node('Identity', [from], {}, to);
  }

  toBytes(producer = 'facegate'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: producer,
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
