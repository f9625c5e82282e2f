/** Synthetic faces for the PAD tests: a textured 320×240 frame, a face box and 68 landmarks in it (dlib's mean face). */
import { dlibMeanPoint } from '../../src/vision/align.js';
import type { PadInput } from '../../src/liveness/pad-features.js';
import type { Box, Point, RawImage } from '../../src/vision/types.js';

/** Deterministic 32-bit PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Skin-toned RGB frame with per-pixel noise of amplitude `noise` (the "fine texture"). */
export function noisyFrame(seed: number, noise: number, width = 320, height = 240): RawImage {
  const rnd = prng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = 40 * Math.sin(x / 23) * Math.cos(y / 31);
      const n = (rnd() - 0.5) * noise;
      const o = (y * width + x) * 3;
      data[o] = Math.max(0, Math.min(255, Math.round(180 + shade + n)));
      data[o + 1] = Math.max(0, Math.min(255, Math.round(130 + shade + n * 0.8)));
      data[o + 2] = Math.max(0, Math.min(255, Math.round(110 + shade + n * 0.6)));
    }
  }
  return { width, height, channels: 3, data };
}

/** 3×3 box blur then quantisation to `levels` grey levels per channel: what a print-and-recapture does to texture. */
export function blurAndQuantise(img: RawImage, levels: number): RawImage {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Uint8Array(data.length);
  const step = 256 / levels;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(h - 1, Math.max(0, y + dy));
            const xx = Math.min(w - 1, Math.max(0, x + dx));
            s += data[(yy * w + xx) * c + k]!;
            n++;
          }
        }
        out[(y * w + x) * c + k] = Math.min(255, Math.floor(s / n / step) * step + step / 2);
      }
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

export function greyOf(img: RawImage): RawImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * 3 + 1]!;
  return { width: img.width, height: img.height, channels: 1, data };
}

/** 68 iBUG landmarks of dlib's mean face placed in `box` (jaw points, unused by alignment, on the box edge). */
export function syntheticLandmarks(box: Box): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 68; i++) {
    const p = i >= 17 ? dlibMeanPoint(i) : { x: i / 16, y: 0.5 + 0.5 * Math.sin((Math.PI * i) / 16) };
    pts.push({ x: box.x + p.x * box.width, y: box.y + p.y * box.height });
  }
  return pts;
}

export function syntheticFace(image: RawImage): PadInput {
  const box = { x: image.width / 2 - 50, y: image.height / 2 - 50, width: 100, height: 100 };
  return { image, box, landmarks: syntheticLandmarks(box) };
}
