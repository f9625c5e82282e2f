import type { Point, RawImage } from './types.js';

/** 2×3 affine map: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m.a * p.x + m.b * p.y + m.tx, y: m.c * p.x + m.d * p.y + m.ty };
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('affine transform is singular');
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, tx: -(a * m.tx + b * m.ty), ty: -(c * m.tx + d * m.ty) };
}

/** Scale and rotation (radians, image y down) of a similarity transform. */
export function similarityParams(m: Affine): { scale: number; angle: number } {
  return { scale: Math.hypot(m.a, m.c), angle: Math.atan2(m.c, m.a) };
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping `from` onto
 * `to` — Umeyama's estimate. In 2-D it has a closed form: with both point sets centred, the rotation-scale pair
 * (a, b) = Σ(from·to, from×to) / Σ|from|².
 */
export function estimateSimilarity(from: readonly Point[], to: readonly Point[], weights?: readonly number[]): Affine {
  const n = from.length;
  if (n < 2 || to.length !== n) throw new Error(`similarity needs ≥ 2 point pairs of equal count (got ${n} and ${to.length})`);
  let sw = 0;
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    const w = weights?.[i] ?? 1;
    sw += w;
    fx += w * from[i]!.x;
    fy += w * from[i]!.y;
    tx += w * to[i]!.x;
    ty += w * to[i]!.y;
  }
  fx /= sw;
  fy /= sw;
  tx /= sw;
  ty /= sw;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const w = weights?.[i] ?? 1;
    const px = from[i]!.x - fx;
    const py = from[i]!.y - fy;
    const qx = to[i]!.x - tx;
    const qy = to[i]!.y - ty;
    dot += w * (px * qx + py * qy);
    cross += w * (px * qy - py * qx);
    norm += w * (px * px + py * py);
  }
  if (!(norm > 1e-12)) throw new Error('similarity: source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a * a + b * b < 1e-18) throw new Error('similarity: degenerate target points');
  return { a, b: -b, c: b, d: a, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

// ---------------------------------------------------------------------------------------------------------------
// Templates

/**
 * dlib's mean face (normalised 0..1) for iBUG-68 points 17..67, from dlib's get_face_chip_details — the shape the
 * chips dlib's face-recognition ResNet (face-api's FaceRecognitionNet) was trained on are aligned to.
 */
const DLIB_MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688,
  0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335,
  0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127,
  0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const DLIB_MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
  0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077,
  0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746,
  0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/** Mean-face position of iBUG-68 point i (17 ≤ i ≤ 67), normalised. */
export function dlibMeanPoint(i: number): Point {
  const x = DLIB_MEAN_X[i - 17];
  const y = DLIB_MEAN_Y[i - 17];
  if (x === undefined || y === undefined) throw new Error(`dlib mean face has no point ${i}`);
  return { x, y };
}

/** dlib aligns on nose, eyes and the upper mouth; jaw, eyebrows and the (mobile) lower lip are left out. */
export const DLIB_ALIGN_POINTS: readonly number[] = (() => {
  const out: number[] = [];
  for (let i = 27; i <= 67; i++) if (!((i >= 55 && i <= 59) || (i >= 65 && i <= 67))) out.push(i);
  return out;
})();

function meanOf(points: readonly Point[], idx: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of idx) {
    const p = points[i];
    if (!p) throw new Error(`landmark ${i} missing`);
    x += p.x;
    y += p.y;
  }
  return { x: x / idx.length, y: y / idx.length };
}

const R_EYE = [36, 37, 38, 39, 40, 41];
const L_EYE = [42, 43, 44, 45, 46, 47];

/** The same four features BlazeFace gives (right eye, left eye, nose tip, mouth centre), taken from 68 points. */
export function featuresFrom68(points: readonly Point[]): Point[] {
  return [meanOf(points, R_EYE), meanOf(points, L_EYE), meanOf(points, [30]), meanOf(points, [51, 57, 62, 66])];
}

/** Eye centres, nose tip and mouth centre of dlib's mean face (normalised). */
export const DLIB_MEAN_FEATURES: readonly Point[] = (() => {
  const all: Point[] = [];
  for (let i = 0; i < 68; i++) all.push(i >= 17 ? dlibMeanPoint(i) : { x: NaN, y: NaN });
  return featuresFrom68(all);
})();

/**
 * Where BlazeFace's first four keypoints (eye centres, nose tip, mouth centre) fall in dlib's normalised
 * mean-face frame: medians over the 790 lfw-dev faces, each aligned to dlib's template with face-api's 68-point
 * landmarks (`bench/blazeface-template.ts`). BlazeFace places the eyes a little wider and the nose and mouth a
 * little lower than the mean face's eye/nose/mouth points, so the mean face's own points would misplace the chip.
 * Made left-right symmetric (the medians were within 0.004 of it) so a mirrored face gets the mirrored chip.
 * Aligning on these reproduces the 68-point chip on average (lfw-dev, face-api net: EER 1.69 % against 1.88 %
 * with the mean-face points).
 */
export const DLIB_BLAZEFACE_TEMPLATE: readonly Point[] = [
  { x: 0.2238, y: 0.2268 },
  { x: 0.7766, y: 0.2268 },
  { x: 0.5002, y: 0.5497 },
  { x: 0.5002, y: 0.8318 },
];

/** Which landmarks are being aligned: iBUG-68 (dlib order) or BlazeFace's 6 keypoints. */
export type LandmarkKind = 'ibug68' | 'blazeface6';

export interface ChipLayout {
  /** Output side in pixels. */
  size: number;
  /** dlib padding (fraction of the template extent added on each side). */
  padding: number;
}

/** Point pairs (chip position ← image landmark) the similarity transform is fitted to. */
export function alignmentPairs(kind: LandmarkKind, landmarks: readonly Point[], layout: ChipLayout): { chip: Point[]; image: Point[] } {
  const { size, padding } = layout;
  if (kind === 'ibug68' && landmarks.length !== 68) throw new Error(`ibug68 alignment needs 68 points, got ${landmarks.length}`);
  if (kind === 'blazeface6' && landmarks.length < 4) throw new Error(`blazeface alignment needs ≥ 4 keypoints, got ${landmarks.length}`);
  for (const p of landmarks) if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error('landmark is not finite');
  if (!(padding >= 0) || !(size > 0)) throw new Error('chip layout: size must be > 0 and padding ≥ 0');
  const place = (p: Point): Point => ({ x: ((padding + p.x) / (2 * padding + 1)) * size, y: ((padding + p.y) / (2 * padding + 1)) * size });
  if (kind === 'ibug68') {
    return { chip: DLIB_ALIGN_POINTS.map((i) => place(dlibMeanPoint(i))), image: DLIB_ALIGN_POINTS.map((i) => landmarks[i]!) };
  }
  return { chip: DLIB_BLAZEFACE_TEMPLATE.map(place), image: landmarks.slice(0, 4) };
}

/**
 * Chip-to-image transform for a face. It reproduces dlib's chip_details convention: the
 * fitted similarity fixes the centre, rotation and scale of a square of side size·scale, whose corners are then
 * mapped onto chip pixels 0 and size−1 (so the chip is size/(size−1) wider than the raw fit).
 */
export function chipToImage(kind: LandmarkKind, landmarks: readonly Point[], layout: ChipLayout): Affine {
  const { chip, image } = alignmentPairs(kind, landmarks, layout);
  const t = estimateSimilarity(chip, image);
  const n = layout.size;
  const centre = applyAffine(t, { x: n / 2, y: n / 2 });
  const { scale, angle } = similarityParams(t);
  const k = n > 1 ? (n * scale) / (n - 1) : scale;
  const cos = Math.cos(angle) * k;
  const sin = Math.sin(angle) * k;
  const h = (n - 1) / 2;
  return { a: cos, b: -sin, c: sin, d: cos, tx: centre.x - (cos * h - sin * h), ty: centre.y - (sin * h + cos * h) };
}

// ---------------------------------------------------------------------------------------------------------------
// Warping

/**
 * Halves an image region with a 2×2 box filter (odd edges replicate). Returns the half-size image and the source
 * position of its first pixel's top-left corner, so callers can map coordinates: half = (src − origin − 0.5) / 2.
 */
function halve(img: RawImage, x0: number, y0: number, x1: number, y1: number): { img: RawImage; ox: number; oy: number } {
  const { width: W, channels: C, data } = img;
  const w = Math.max(1, Math.ceil((x1 - x0) / 2));
  const h = Math.max(1, Math.ceil((y1 - y0) / 2));
  const out = new Uint8Array(w * h * C);
  for (let y = 0; y < h; y++) {
    const sy0 = y0 + 2 * y;
    const sy1 = Math.min(sy0 + 1, y1 - 1);
    for (let x = 0; x < w; x++) {
      const sx0 = x0 + 2 * x;
      const sx1 = Math.min(sx0 + 1, x1 - 1);
      const a = (sy0 * W + sx0) * C;
      const b = (sy0 * W + sx1) * C;
      const c = (sy1 * W + sx0) * C;
      const d = (sy1 * W + sx1) * C;
      const o = (y * w + x) * C;
      for (let k = 0; k < C; k++) out[o + k] = (data[a + k]! + data[b + k]! + data[c + k]! + data[d + k]! + 2) >> 2;
    }
  }
  return { img: { width: w, height: h, channels: C, data: out }, ox: x0, oy: y0 };
}

/**
 * Samples a size×size chip through `chipToImg` with bilinear interpolation; outside the image, edge pixels are
 * replicated. Like dlib, when the chip shrinks the face by more than 2× the source region is first halved (box
 * filter) until the remaining scale is at most 2, so small chips from big faces do not alias. `channels` 3
 * replicates grey into RGB; 1 from RGB takes BT.601 luma.
 */
export function warpAffine(img: RawImage, chipToImg: Affine, size: number, channels: 1 | 3 = img.channels, out?: Uint8Array): RawImage {
  if (!Number.isInteger(size) || size <= 0 || size > 4096) throw new Error(`chip size ${size} is invalid`);
  let src = img;
  let m = chipToImg;
  while (Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)) > 2 && src.width > 1 && src.height > 1) {
    // Only the chip's footprint (plus a margin for the filter) is halved.
    const corners = [
      applyAffine(m, { x: 0, y: 0 }),
      applyAffine(m, { x: size, y: 0 }),
      applyAffine(m, { x: 0, y: size }),
      applyAffine(m, { x: size, y: size }),
    ];
    const clampX = (v: number): number => Math.min(Math.max(v, 0), src.width);
    const clampY = (v: number): number => Math.min(Math.max(v, 0), src.height);
    const x0 = Math.floor(clampX(Math.min(...corners.map((p) => p.x)) - 2));
    const y0 = Math.floor(clampY(Math.min(...corners.map((p) => p.y)) - 2));
    const x1 = Math.ceil(clampX(Math.max(...corners.map((p) => p.x)) + 2));
    const y1 = Math.ceil(clampY(Math.max(...corners.map((p) => p.y)) + 2));
    if (x1 - x0 < 2 || y1 - y0 < 2) break;
    const h = halve(src, x0, y0, x1, y1);
    src = h.img;
    m = { a: m.a / 2, b: m.b / 2, c: m.c / 2, d: m.d / 2, tx: (m.tx - h.ox - 0.5) / 2, ty: (m.ty - h.oy - 0.5) / 2 };
  }
  const { width: W, height: H, channels: C, data } = src;
  const len = size * size * channels;
  const dst = out && out.length === len ? out : new Uint8Array(len);
  const { a, b, c, d, tx, ty } = m;
  const maxX = W - 1;
  const maxY = H - 1;
  let o = 0;
  for (let y = 0; y < size; y++) {
    let ix0 = b * y + tx;
    let iy0 = d * y + ty;
    for (let x = 0; x < size; x++, ix0 += a, iy0 += c) {
      const ix = ix0 < 0 ? 0 : Math.min(ix0, maxX);
      const iy = iy0 < 0 ? 0 : Math.min(iy0, maxY);
      const x0 = ix | 0;
      const y0 = iy | 0;
      const dx = x0 < maxX ? C : 0;
      const dy = y0 < maxY ? W * C : 0;
      const fx = ix - x0;
      const fy = iy - y0;
      const p = (y0 * W + x0) * C;
      if (C === 1) {
        const top = data[p]! + (data[p + dx]! - data[p]!) * fx;
        const bot = data[p + dy]! + (data[p + dy + dx]! - data[p + dy]!) * fx;
        const v = (top + (bot - top) * fy + 0.5) | 0;
        dst[o++] = v;
        if (channels === 3) {
          dst[o++] = v;
          dst[o++] = v;
        }
      } else {
        const q = p + dy;
        const r0 = data[p]! + (data[p + dx]! - data[p]!) * fx;
        const r1 = data[q]! + (data[q + dx]! - data[q]!) * fx;
        const g0 = data[p + 1]! + (data[p + dx + 1]! - data[p + 1]!) * fx;
        const g1 = data[q + 1]! + (data[q + dx + 1]! - data[q + 1]!) * fx;
        const b0 = data[p + 2]! + (data[p + dx + 2]! - data[p + 2]!) * fx;
        const b1 = data[q + 2]! + (data[q + dx + 2]! - data[q + 2]!) * fx;
        const r = r0 + (r1 - r0) * fy;
        const g = g0 + (g1 - g0) * fy;
        const bb = b0 + (b1 - b0) * fy;
        if (channels === 3) {
          dst[o++] = (r + 0.5) | 0;
          dst[o++] = (g + 0.5) | 0;
          dst[o++] = (bb + 0.5) | 0;
        } else {
          dst[o++] = (r * 77 + g * 150 + bb * 29 + 128) >> 8;
        }
      }
    }
  }
  return { width: size, height: size, channels, data: dst };
}

/** Mirror image left-right (for flip test-time augmentation). */
export function flipHorizontal(img: RawImage): RawImage {
  const { width: W, height: H, channels: C, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    const row = y * W * C;
    for (let x = 0; x < W; x++) {
      const s = row + x * C;
      const t = row + (W - 1 - x) * C;
      for (let k = 0; k < C; k++) out[t + k] = data[s + k]!;
    }
  }
  return { width: W, height: H, channels: C, data: out };
}
