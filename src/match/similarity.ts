/**
 * Vector similarity for face embeddings. Every stored template and every probe is L2-normalised once, so the
 * hot path is a plain dot product: no square roots and no allocation per comparison.
 */

/** Dot product; equals cosine similarity when both vectors are L2-normalised. */
export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`embedding length mismatch: ${n} vs ${b.length}`);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  // Four accumulators let V8 keep independent chains in flight; the embeddings are 128 or 1024 long.
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm. */
export function norm(v: Float32Array): number {
  return Math.sqrt(dot(v, v));
}

/** Scales v to unit length in place and returns it. A zero or non-finite vector is an error, never a match. */
export function l2normalizeInPlace(v: Float32Array): Float32Array {
  const n = norm(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error('cannot normalise a zero or non-finite embedding');
  const inv = 1 / n;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  return v;
}

/** Unit-length copy of v. */
export function l2normalize(v: Float32Array): Float32Array {
  return l2normalizeInPlace(Float32Array.from(v));
}

/** Cosine similarity of two arbitrary vectors (for callers that did not normalise; the hot path uses dot). */
export function cosine(a: Float32Array, b: Float32Array): number {
  const na = norm(a);
  const nb = norm(b);
  if (!(na > 0) || !(nb > 0)) return -1;
  return dot(a, b) / (na * nb);
}

/**
 * Unit-length mean of the unit-length versions of `vectors`: the direction a set of embeddings agrees on.
 * Used to fold a user's gallery into one template and to combine an image with its mirror (flip TTA).
 */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0];
  if (!first) throw new Error('meanDirection needs at least one vector');
  const out = new Float32Array(first.length);
  for (const v of vectors) {
    if (v.length !== out.length) throw new Error(`embedding length mismatch: ${out.length} vs ${v.length}`);
    const inv = 1 / norm(v);
    if (!Number.isFinite(inv)) throw new Error('cannot average a zero or non-finite embedding');
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]! * inv;
  }
  return l2normalizeInPlace(out);
}
