import type { WeightGroup, WeightSpec } from './modeljson.js';

/** A decoded weight: float32 for real tensors, int32 for shapes/axes/paddings (bool decodes to 0/1 int32). */
export interface DecodedWeight {
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

// A lookup table is both exact and faster than bit twiddling per element for multi-MB weight files.
const F16_LUT = new Float32Array(65536);
for (let h = 0; h < 65536; h++) F16_LUT[h] = halfToFloatSlow(h);

/** IEEE 754 binary16 -> number, including subnormals, infinities and NaN. */
export function halfToFloatSlow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes little-endian binary16 values to float32. */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) throw new Error(`float16 data has an odd byte count ${bytes.length}`);
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) out[i] = F16_LUT[(bytes[j] as number) | ((bytes[j + 1] as number) << 8)] as number;
  return out;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function bytesPerElement(spec: WeightSpec): number {
  const q = spec.quantization;
  if (q) return q.dtype === 'uint8' ? 1 : 2;
  return spec.dtype === 'bool' ? 1 : 4;
}

function decodeOne(spec: WeightSpec, bytes: Uint8Array): DecodedWeight {
  const n = elementCount(spec.shape);
  const q = spec.quantization;
  // Copy into an aligned buffer: weights are packed back to back with no alignment in the .bin files.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (q?.dtype === 'float16') return { dtype: 'float32', shape: spec.shape, data: decodeFloat16(bytes) };
  if (q) {
    const scale = q.scale as number;
    const min = q.min as number;
    const raw = (i: number): number => (q.dtype === 'uint8' ? dv.getUint8(i) : dv.getUint16(2 * i, true));
    if (spec.dtype === 'float32') {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = raw(i) * scale + min;
      return { dtype: 'float32', shape: spec.shape, data: out };
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.round(raw(i) * scale + min);
    return { dtype: 'int32', shape: spec.shape, data: out };
  }
  if (spec.dtype === 'float32') {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
    return { dtype: 'float32', shape: spec.shape, data: out };
  }
  const out = new Int32Array(n);
  if (spec.dtype === 'bool') for (let i = 0; i < n; i++) out[i] = dv.getUint8(i) ? 1 : 0;
  else for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
  return { dtype: 'int32', shape: spec.shape, data: out };
}

/**
 * Decodes every weight of a manifest. Each group's files are concatenated in order and its weights are read
 * back to back from that stream, as tfjs does. `readFile` returns the bytes of a path named in the manifest.
 */
export function decodeWeights(manifest: readonly WeightGroup[], readFile: (path: string) => Uint8Array): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  for (const [gi, group] of manifest.entries()) {
    const parts = group.paths.map((p) => readFile(p));
    const total = parts.reduce((a, p) => a + p.length, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    let pos = 0;
    for (const spec of group.weights) {
      const size = elementCount(spec.shape) * bytesPerElement(spec);
      if (pos + size > total) {
        throw new Error(`weights group ${gi} (${group.paths.join(', ')}): ${spec.name} needs bytes ${pos}..${pos + size} but the files hold ${total}`);
      }
      if (out.has(spec.name)) throw new Error(`weight ${spec.name} appears twice in the manifest`);
      out.set(spec.name, decodeOne(spec, buf.subarray(pos, pos + size)));
      pos += size;
    }
    if (pos !== total) throw new Error(`weights group ${gi} (${group.paths.join(', ')}): ${total - pos} trailing bytes; manifest and files disagree`);
  }
  return out;
}
