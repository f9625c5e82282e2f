import type { Box } from '../vision/types.js';
import { inRect, scaledRect, type SmallGrey } from './small-grey.js';

export interface RegionMotion {
  /** Apparent displacement (small-image px) of the inner face between two frames. */
  face: number;
  /** The same for a ring around the face (1.3–2.0 × the face box). */
  ring: number;
  /**
   * ring / face, capped at 2. A photo held in the hand carries its own surroundings of the face along (≈ 1); a
   * real head moves against a background that stays put (≈ 0). Meaningful only when `face` is not ~0.
   */
  coherence: number;
}

/**
 * Normal-flow magnitude |∂I/∂t| / |∇I| summed over a region: for small shifts it approximates how far the
 * region's content moved, whatever its contrast. Computed on the small grey frames (src/liveness/small-grey.ts).
 */
export function regionMotion(prev: SmallGrey, cur: SmallGrey, box: Box): RegionMotion | null {
  if (prev.width !== cur.width || prev.height !== cur.height) return null;
  const w = cur.width;
  const inner = scaledRect(box, 0.7, cur);
  const ringIn = scaledRect(box, 1.3, cur);
  const ringOut = scaledRect(box, 2.0, cur);
  let fd = 0;
  let fg = 0;
  let rd = 0;
  let rg = 0;
  for (let y = Math.max(1, ringOut.y0); y < Math.min(cur.height - 1, ringOut.y1); y++) {
    for (let x = Math.max(1, ringOut.x0); x < Math.min(w - 1, ringOut.x1); x++) {
      const i = y * w + x;
      const c = cur.data;
      const p = prev.data;
      // Gradient of the mean of both frames, so a shift in either direction is measured the same.
      const gx = (c[i + 1]! - c[i - 1]! + p[i + 1]! - p[i - 1]!) / 4;
      const gy = (c[i + w]! - c[i - w]! + p[i + w]! - p[i - w]!) / 4;
      const g = Math.abs(gx) + Math.abs(gy);
      const d = Math.abs(c[i]! - p[i]!);
      if (inRect(inner, x, y)) {
        fd += d;
        fg += g;
      } else if (!inRect(ringIn, x, y)) {
        rd += d;
        rg += g;
      }
    }
  }
  // A floor on the gradient sum keeps flat regions (a blank wall) from reading as large motion.
  const face = fd / Math.max(fg, 1e-3 + (inner.x1 - inner.x0) * (inner.y1 - inner.y0) * 2);
  const ringArea = (ringOut.x1 - ringOut.x0) * (ringOut.y1 - ringOut.y0) - (ringIn.x1 - ringIn.x0) * (ringIn.y1 - ringIn.y0);
  const ring = rd / Math.max(rg, 1e-3 + Math.max(0, ringArea) * 2);
  const coherence = face > 1e-6 ? Math.min(2, ring / face) : 0;
  return { face, ring, coherence };
}
