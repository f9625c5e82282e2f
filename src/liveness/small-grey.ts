import type { Box, RawImage } from '../vision/types.js';

/** A small grey copy of a frame and the factor that maps source pixels onto it. */
export interface SmallGrey {
  width: number;
  height: number;
  data: Float32Array;
  /** small px = source px × scale */
  scale: number;
}

/**
 * Box-averaged grey copy about `width` px wide. The motion and edge cues work at this size: it costs well under
 * a millisecond for a 640×480 frame and averages away sensor noise that would read as motion.
 */
export function smallGrey(img: RawImage, width = 160): SmallGrey {
  const f = Math.max(1, Math.round(img.width / width));
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const out = new Float32Array(w * h);
  const c = img.channels;
  const src = img.data;
  const norm = 1 / (f * f * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) {
        let p = ((y * f + dy) * img.width + x * f) * c;
        for (let k = 0; k < f * c; k++) s += src[p++]!;
      }
      out[y * w + x] = s * norm;
    }
  }
  return { width: w, height: h, data: out, scale: 1 / f };
}

/** Integer pixel rectangle [x0, x1) × [y0, y1), clipped to the image. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A source-pixel box scaled about its centre by `k`, in small-image pixels, clipped. */
export function scaledRect(box: Box, k: number, g: { width: number; height: number; scale: number }): Rect {
  const cx = (box.x + box.width / 2) * g.scale;
  const cy = (box.y + box.height / 2) * g.scale;
  const hw = (box.width * k * g.scale) / 2;
  const hh = (box.height * k * g.scale) / 2;
  return {
    x0: Math.max(0, Math.floor(cx - hw)),
    y0: Math.max(0, Math.floor(cy - hh)),
    x1: Math.min(g.width, Math.ceil(cx + hw)),
    y1: Math.min(g.height, Math.ceil(cy + hh)),
  };
}

export function inRect(r: Rect, x: number, y: number): boolean {
  return x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
}
