/**
 * Reads a tfjs weights manifest (the format face-api ships: a JSON list of groups, each naming .bin shards and
 * the weights packed in them) and decodes every weight to float32, undoing tfjs weight quantisation.
 * Every field is validated: the manifest comes from a package on disk and must not be trusted blindly.
 */

export interface Weight {
  readonly name: string;
  /** tfjs shape, e.g. [kh, kw, in, out] for conv filters (NHWC/HWIO order). */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, Weight>;

type Quantization = { dtype: 'uint8' | 'uint16'; scale: number; min: number } | { dtype: 'float16' };

interface WeightSpec {
  name: string;
  shape: number[];
  quantization?: Quantization;
}

interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

function fail(what: string, msg: string): never {
  throw new Error(`${what}: ${msg}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSpec(what: string, raw: unknown): WeightSpec {
  if (!isRecord(raw)) fail(what, 'weight entry is not an object');
  const { name, shape, dtype, quantization } = raw;
  if (typeof name !== 'string' || name.length === 0) fail(what, 'weight without a name');
  const w = `${what} weight ${name}`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
    fail(w, `bad shape ${JSON.stringify(shape)}`);
  }
  // Only float32 weights occur in face-api's nets; anything else (int32 indices, strings) is not ours to guess.
  if (dtype !== 'float32') fail(w, `unsupported dtype ${JSON.stringify(dtype)} (only float32)`);
  const spec: WeightSpec = { name, shape: shape as number[] };
  if (quantization !== undefined) {
    if (!isRecord(quantization)) fail(w, 'quantization is not an object');
    const q = quantization.dtype;
    if (q === 'uint8' || q === 'uint16') {
      const { scale, min } = quantization;
      if (typeof scale !== 'number' || !Number.isFinite(scale) || typeof min !== 'number' || !Number.isFinite(min)) {
        fail(w, `${q} quantization needs finite scale and min`);
      }
      spec.quantization = { dtype: q, scale, min };
    } else if (q === 'float16') {
      spec.quantization = { dtype: 'float16' };
    } else {
      fail(w, `unsupported quantization dtype ${JSON.stringify(q)} (uint8, uint16, float16)`);
    }
  }
  return spec;
}

/** Parses and validates a tfjs weights manifest (JSON text). */
export function parseManifest(what: string, json: string): WeightGroup[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    fail(what, `manifest is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!Array.isArray(raw) || raw.length === 0) fail(what, 'manifest must be a non-empty list of weight groups');
  return raw.map((g: unknown, i): WeightGroup => {
    if (!isRecord(g)) fail(what, `group ${i} is not an object`);
    const { paths, weights } = g;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
      fail(what, `group ${i} has no shard paths`);
    }
    if (!Array.isArray(weights)) fail(what, `group ${i} has no weights list`);
    return { paths: paths as string[], weights: weights.map((w) => parseSpec(what, w)) };
  });
}

function bytesPerValue(spec: WeightSpec): number {
  const q = spec.quantization?.dtype;
  return q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 4;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decode(spec: WeightSpec, bytes: Uint8Array): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = spec.quantization;
  if (!q) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    // Same arithmetic as tfjs' decodeWeights: value = q * scale + min, computed in double, stored as float32.
    for (let i = 0; i < count; i++) {
      const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
      out[i] = v * q.scale + q.min;
    }
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(out[i]!)) fail(spec.name, `non-finite value at index ${i}`);
  }
  return out;
}

/**
 * Decodes all weights of a manifest. `shards` maps each shard path named by the manifest to its bytes; the
 * shards of a group are concatenated (tfjs splits groups at arbitrary byte offsets) and must be consumed exactly.
 */
export function decodeWeights(what: string, manifestJson: string, shards: Readonly<Record<string, Uint8Array>>): WeightMap {
  const groups = parseManifest(what, manifestJson);
  const map = new Map<string, Weight>();
  for (const group of groups) {
    const parts = group.paths.map((p) => shards[p] ?? fail(what, `shard ${p} named by the manifest was not supplied`));
    const total = parts.reduce((a, b) => a + b.length, 0);
    const buf = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      buf.set(p, at);
      at += p.length;
    }
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1) * bytesPerValue(spec);
      if (offset + size > total) fail(what, `weight ${spec.name} runs past the end of the data (${total} bytes)`);
      if (map.has(spec.name)) fail(what, `weight ${spec.name} appears twice`);
      map.set(spec.name, { name: spec.name, shape: spec.shape, data: decode(spec, buf.subarray(offset, offset + size)) });
      offset += size;
    }
    if (offset !== total) fail(what, `${total - offset} bytes of shard data are not described by the manifest`);
  }
  return map;
}

/** Fetches a weight and checks its shape; builders use this so a wrong file fails with the weight's name. */
export function take(map: WeightMap, name: string, shape: readonly number[]): Float32Array {
  const w = map.get(name);
  if (!w) throw new Error(`weight ${name} is missing`);
  if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`weight ${name} has shape [${w.shape.join(',')}], expected [${shape.join(',')}]`);
  }
  return w.data;
}
