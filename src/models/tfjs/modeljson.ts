/**
 * The parts of a TensorFlow.js graph-model `model.json` the converter reads, validated from `unknown` so a
 * malformed or unexpected file fails with a message naming the offending field instead of a TypeError deep in
 * the conversion.
 */

/** One TensorFlow attribute value as tfjs serialises AttrValue protos to JSON. */
export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  shape?: unknown;
  tensor?: unknown;
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input: readonly string[];
  readonly attr: Readonly<Record<string, TfAttr>>;
}

export interface WeightQuantization {
  readonly dtype: 'float16' | 'uint8' | 'uint16';
  readonly scale?: number;
  readonly min?: number;
  readonly originalDtype?: string;
}

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32' | 'bool';
  readonly quantization?: WeightQuantization;
}

export interface WeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly WeightSpec[];
}

export interface SignatureEntry {
  /** The tensor, as `node` or `node:index`. */
  readonly name: string;
  readonly shape?: readonly number[];
}

export interface TfjsGraphModel {
  readonly nodes: readonly TfNode[];
  readonly weightsManifest: readonly WeightGroup[];
  /** Signature inputs/outputs keyed by their public name; empty when the file has none. */
  readonly inputs: ReadonlyMap<string, SignatureEntry>;
  readonly outputs: ReadonlyMap<string, SignatureEntry>;
}

export class ModelJsonError extends Error {
  constructor(message: string) {
    super(`model.json: ${message}`);
    this.name = 'ModelJsonError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ModelJsonError(`${where} must be a non-empty string`);
  return v;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new ModelJsonError(`${where} must be an array`);
  return v;
}

function parseNode(v: unknown, i: number): TfNode {
  const where = `modelTopology.node[${i}]`;
  if (!isObject(v)) throw new ModelJsonError(`${where} must be an object`);
  const name = str(v.name, `${where}.name`);
  const op = str(v.op, `${where}(${name}).op`);
  const input = v.input === undefined ? [] : arr(v.input, `${where}(${name}).input`).map((x, k) => str(x, `${where}(${name}).input[${k}]`));
  const attr = v.attr === undefined ? {} : v.attr;
  if (!isObject(attr)) throw new ModelJsonError(`${where}(${name}).attr must be an object`);
  for (const [k, a] of Object.entries(attr)) if (!isObject(a)) throw new ModelJsonError(`${where}(${name}).attr.${k} must be an object`);
  return { name, op, input, attr: attr as Record<string, TfAttr> };
}

function parseShape(v: unknown, where: string): number[] {
  return arr(v, where).map((d, k) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new ModelJsonError(`${where}[${k}] must be a non-negative integer`);
    return d;
  });
}

function parseWeight(v: unknown, where: string): WeightSpec {
  if (!isObject(v)) throw new ModelJsonError(`${where} must be an object`);
  const name = str(v.name, `${where}.name`);
  const shape = parseShape(v.shape, `${where}(${name}).shape`);
  const dtype = v.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new ModelJsonError(`${where}(${name}).dtype ${JSON.stringify(dtype)} is not supported (float32, int32, bool)`);
  }
  if (v.quantization === undefined) return { name, shape, dtype };
  const q = v.quantization;
  if (!isObject(q)) throw new ModelJsonError(`${where}(${name}).quantization must be an object`);
  if (q.dtype !== 'float16' && q.dtype !== 'uint8' && q.dtype !== 'uint16') {
    throw new ModelJsonError(`${where}(${name}).quantization.dtype ${JSON.stringify(q.dtype)} is not supported (float16, uint8, uint16)`);
  }
  let scale: number | undefined;
  let min: number | undefined;
  if (q.dtype !== 'float16') {
    if (typeof q.scale !== 'number' || !Number.isFinite(q.scale) || typeof q.min !== 'number' || !Number.isFinite(q.min)) {
      throw new ModelJsonError(`${where}(${name}).quantization: ${q.dtype} needs finite numeric scale and min`);
    }
    scale = q.scale;
    min = q.min;
  } else if (dtype !== 'float32') {
    throw new ModelJsonError(`${where}(${name}): float16 quantisation of a ${dtype} weight is not supported`);
  }
  const originalDtype = typeof q.original_dtype === 'string' ? q.original_dtype : undefined;
  return { name, shape, dtype, quantization: { dtype: q.dtype, ...(scale !== undefined ? { scale, min } : {}), ...(originalDtype ? { originalDtype } : {}) } };
}

function parseSignature(v: unknown, where: string): Map<string, SignatureEntry> {
  const out = new Map<string, SignatureEntry>();
  if (v === undefined) return out;
  if (!isObject(v)) throw new ModelJsonError(`${where} must be an object`);
  for (const [key, e] of Object.entries(v)) {
    if (!isObject(e)) throw new ModelJsonError(`${where}.${key} must be an object`);
    out.set(key, { name: str(e.name, `${where}.${key}.name`) });
  }
  return out;
}

/** Parses and validates a tfjs graph-model JSON document. */
export function parseModelJson(text: string | Uint8Array): TfjsGraphModel {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof text === 'string' ? text : new TextDecoder().decode(text));
  } catch (err) {
    throw new ModelJsonError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(doc)) throw new ModelJsonError('top level must be an object');
  if (doc.format !== undefined && doc.format !== 'graph-model') {
    throw new ModelJsonError(`format ${JSON.stringify(doc.format)} is not a graph model (layers models are not supported)`);
  }
  const topo = doc.modelTopology;
  if (!isObject(topo)) throw new ModelJsonError('modelTopology must be an object');
  const nodes = arr(topo.node, 'modelTopology.node').map(parseNode);
  if (nodes.length === 0) throw new ModelJsonError('modelTopology.node is empty');
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) throw new ModelJsonError(`duplicate node name ${n.name}`);
    names.add(n.name);
  }
  const weightsManifest = arr(doc.weightsManifest, 'weightsManifest').map((g, gi): WeightGroup => {
    const where = `weightsManifest[${gi}]`;
    if (!isObject(g)) throw new ModelJsonError(`${where} must be an object`);
    return {
      paths: arr(g.paths, `${where}.paths`).map((p, k) => str(p, `${where}.paths[${k}]`)),
      weights: arr(g.weights, `${where}.weights`).map((w, k) => parseWeight(w, `${where}.weights[${k}]`)),
    };
  });
  // Older converters put the signature under userDefinedMetadata (Human's iris.json does).
  const udm = doc.userDefinedMetadata;
  const sig = doc.signature ?? (isObject(udm) ? udm.signature : undefined);
  if (sig !== undefined && !isObject(sig)) throw new ModelJsonError('signature must be an object');
  return {
    nodes,
    weightsManifest,
    inputs: parseSignature(sig?.inputs, 'signature.inputs'),
    outputs: parseSignature(sig?.outputs, 'signature.outputs'),
  };
}
