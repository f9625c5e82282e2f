/**
 * Single-frame presentation-attack features: colour texture of the face with some context around it.
 *
 * A printed photo is a second capture of a face: the printer's dither and the paper's surface replace skin
 * micro-texture, and the print's gamut shifts the chroma. Uniform LBP histograms of the luma and chroma planes
 * (YCbCr) and of hue/saturation (HSV) pick both up (Boulkenafet, Komulainen, Hadid, "Face anti-spoofing based on
 * colour texture analysis", ICIP 2015). The crop is aligned on the landmarks (rotation and scale normalised, so a
 * rotated print does not look different for that reason alone) and padded beyond the face so paper edges and
 * background near the face are seen too.
 */
import { chipToImage, warpAffine, type Affine } from '../vision/align.js';
import type { Box, Point, RawImage } from '../vision/types.js';

/** Source-pixel face box and 68 iBUG landmarks (FaceResult.box / .landmarks). */
export interface PadInput {
  image: RawImage;
  box: Box;
  landmarks: readonly Point[];
}

export type PadPlane = 'Y' | 'Cb' | 'Cr' | 'H' | 'S' | 'V';
export const PAD_PLANES: readonly PadPlane[] = ['Y', 'Cb', 'Cr', 'H', 'S', 'V'];

export interface PadFeatureConfig {
  /** Bumped whenever the feature arithmetic changes, so a calibration made for older features is refused. */
  version: number;
  /** Crop side in pixels. */
  size: number;
  /** dlib chip padding: fraction of the landmark template's extent added on each side (0.25 = recognition chip). */
  padding: number;
  planes: readonly PadPlane[];
  /** LBP sampling radii (8 neighbours each); radius r > 1 reads the plane subsampled by r. */
  radii: readonly number[];
  /** Square-root the histograms (Hellinger map) so a linear model compares them sensibly. */
  sqrt: boolean;
}

/** The features the shipped model uses (chosen by leave-subjects-out cross-validation: docs/pad-model.md). */
export const PAD_FEATURES: Readonly<PadFeatureConfig> = Object.freeze({
  version: 2,
  size: 64,
  padding: 0.2,
  planes: PAD_PLANES,
  radii: [1],
  sqrt: true,
});

/** 59 uniform-LBP bins per plane and radius: 58 patterns with ≤ 2 transitions, plus one for all the others. */
export const LBP_BINS = 59;

export function padFeatureDim(cfg: PadFeatureConfig = PAD_FEATURES): number {
  return cfg.planes.length * cfg.radii.length * LBP_BINS;
}

/** 8-bit LBP code → uniform bin. */
const UNIFORM: Uint8Array = (() => {
  const map = new Uint8Array(256);
  let next = 0;
  for (let c = 0; c < 256; c++) {
    let transitions = 0;
    for (let b = 0; b < 8; b++) if (((c >> b) & 1) !== ((c >> ((b + 1) % 8)) & 1)) transitions++;
    map[c] = transitions <= 2 ? next++ : 255;
  }
  for (let c = 0; c < 256; c++) if (map[c] === 255) map[c] = next;
  return map;
})();

/** Crop-to-image map: aligned on the 68 landmarks when present, else a square about the box. */
export function padCropTransform(input: PadInput, cfg: PadFeatureConfig = PAD_FEATURES): Affine {
  const lm = input.landmarks;
  if (lm.length === 68 && lm.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))) {
    try {
      return chipToImage('ibug68', lm, { size: cfg.size, padding: cfg.padding });
    } catch {
      // Degenerate landmarks (all on one point): fall back to the box.
    }
  }
  const { x, y, width, height } = input.box;
  if (![x, y, width, height].every(Number.isFinite) || !(width > 0 && height > 0)) throw new Error('face box is not a finite, non-empty rectangle');
  // The dlib template spans roughly the detector box; pad it the same way.
  const side = Math.max(width, height) * (1 + 2 * cfg.padding);
  const k = side / cfg.size;
  return { a: k, b: 0, c: 0, d: k, tx: x + width / 2 - side / 2, ty: y + height / 2 - side / 2 };
}

/** The RGB face crop the features are computed on (grey input is replicated into the three channels). */
export function padCrop(input: PadInput, cfg: PadFeatureConfig = PAD_FEATURES): RawImage {
  const { image } = input;
  if (image.channels !== 1 && image.channels !== 3) throw new Error('image must be grey or RGB');
  if (image.data.length !== image.width * image.height * image.channels) throw new Error('image data does not match its size');
  return warpAffine(image, padCropTransform(input, cfg), cfg.size, 3);
}

/** The planes of an RGB crop, each one byte per pixel. */
export function colourPlanes(crop: RawImage, planes: readonly PadPlane[]): Map<PadPlane, Uint8Array> {
  if (crop.channels !== 3) throw new Error('colourPlanes needs an RGB crop');
  const n = crop.width * crop.height;
  const out = new Map<PadPlane, Uint8Array>();
  for (const p of planes) out.set(p, new Uint8Array(n));
  const Y = out.get('Y');
  const Cb = out.get('Cb');
  const Cr = out.get('Cr');
  const H = out.get('H');
  const S = out.get('S');
  const V = out.get('V');
  const d = crop.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = d[j]!;
    const g = d[j + 1]!;
    const b = d[j + 2]!;
    // BT.601 full-range YCbCr (JPEG's) in 16-bit fixed point; the offsets keep the sums non-negative.
    if (Y) Y[i] = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    if (Cb) {
      const v = (-11059 * r - 21709 * g + 32768 * b + 8421376) >> 16;
      Cb[i] = Math.min(v, 255);
    }
    if (Cr) {
      const v = (32768 * r - 27439 * g - 5329 * b + 8421376) >> 16;
      Cr[i] = Math.min(v, 255);
    }
    if (H || S || V) {
      const max = r > g ? Math.max(r, b) : Math.max(g, b);
      const min = r < g ? Math.min(r, b) : Math.min(g, b);
      const delta = max - min;
      if (V) V[i] = max;
      if (S) S[i] = max === 0 ? 0 : ((255 * delta + (max >> 1)) / max) | 0;
      if (H) {
        let h = 0;
        if (delta > 0) {
          if (max === r) h = (g - b) / delta;
          else if (max === g) h = 2 + (b - r) / delta;
          else h = 4 + (r - g) / delta;
          if (h < 0) h += 6;
        }
        // Hue on 0..255 (wraps: 256 would be red again).
        H[i] = ((h / 6) * 256 + 0.5) & 255;
      }
    }
  }
  return out;
}

/**
 * Uniform LBP histogram (8 neighbours at distance `r`, on the plane box-averaged over r×r cells so larger radii
 * see coarser texture), normalised to sum 1, written at `dst[offset..offset+59)`.
 */
export function lbpHistogram(plane: Uint8Array, width: number, height: number, r: number, dst: Float32Array | Float64Array, offset: number): void {
  let src = plane;
  let w = width;
  let h = height;
  if (r > 1) {
    w = Math.floor(width / r);
    h = Math.floor(height / r);
    const sub = new Uint8Array(w * h);
    const area = r * r;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = 0; dy < r; dy++) for (let dx = 0; dx < r; dx++) s += plane[(y * r + dy) * width + x * r + dx]!;
        sub[y * w + x] = Math.round(s / area);
      }
    }
    src = sub;
  }
  const hist = new Float64Array(LBP_BINS);
  let count = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const c = src[i]!;
      let code = 0;
      // Neighbours clockwise from the top-left; ≥ centre sets the bit.
      if (src[i - w - 1]! >= c) code |= 1;
      if (src[i - w]! >= c) code |= 2;
      if (src[i - w + 1]! >= c) code |= 4;
      if (src[i + 1]! >= c) code |= 8;
      if (src[i + w + 1]! >= c) code |= 16;
      if (src[i + w]! >= c) code |= 32;
      if (src[i + w - 1]! >= c) code |= 64;
      if (src[i - 1]! >= c) code |= 128;
      hist[UNIFORM[code]!]!++;
      count++;
    }
  }
  for (let k = 0; k < LBP_BINS; k++) dst[offset + k] = count > 0 ? hist[k]! / count : 0;
}

/** The feature vector of one face: per plane and radius, a uniform-LBP histogram. */
export function padFeaturesFromCrop(crop: RawImage, cfg: PadFeatureConfig = PAD_FEATURES): Float32Array {
  const planes = colourPlanes(crop, cfg.planes);
  const out = new Float64Array(padFeatureDim(cfg));
  let o = 0;
  for (const p of cfg.planes) {
    for (const r of cfg.radii) {
      lbpHistogram(planes.get(p)!, crop.width, crop.height, r, out, o);
      o += LBP_BINS;
    }
  }
  if (cfg.sqrt) for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(out[i]!);
  return Float32Array.from(out);
}

export function padFeatures(input: PadInput, cfg: PadFeatureConfig = PAD_FEATURES): Float32Array {
  return padFeaturesFromCrop(padCrop(input, cfg), cfg);
}
