import type { Box } from '../vision/types.js';
import { inRect, scaledRect, type SmallGrey } from './small-grey.js';

const THETAS = 36;
const COS = Float64Array.from({ length: THETAS }, (_, t) => Math.cos((t * Math.PI) / THETAS));
const SIN = Float64Array.from({ length: THETAS }, (_, t) => Math.sin((t * Math.PI) / THETAS));

/**
 * Straight strong edges in a ring around the face (1.2–2.4 × the face box): the share of the ring's edge energy
 * that lies on its single strongest straight line (a small Hough transform whose votes must agree with the
 * gradient direction). A photo's or a phone's border is one long straight edge near the face; hair, shoulders
 * and a room rarely put as much of the energy on one line. 0..1.
 */
export function straightEdgeShare(g: SmallGrey, box: Box): number | null {
  const w = g.width;
  const inner = scaledRect(box, 1.2, g);
  const outer = scaledRect(box, 2.4, g);
  const diag = Math.ceil(Math.hypot(g.width, g.height));
  const acc = new Float64Array(THETAS * (2 * diag + 1));
  let total = 0;
  let n = 0;
  const d = g.data;
  for (let y = Math.max(1, outer.y0); y < Math.min(g.height - 1, outer.y1); y++) {
    for (let x = Math.max(1, outer.x0); x < Math.min(w - 1, outer.x1); x++) {
      if (inRect(inner, x, y)) continue;
      const i = y * w + x;
      const gx = d[i + 1]! - d[i - 1]!;
      const gy = d[i + w]! - d[i - w]!;
      const m = Math.hypot(gx, gy);
      n++;
      total += m;
      if (m < 8) continue;
      // The line through (x, y) is normal to the gradient: vote only at that orientation (± one bin).
      let t0 = Math.round((Math.atan2(gy, gx) / Math.PI) * THETAS);
      t0 = ((t0 % THETAS) + THETAS) % THETAS;
      for (let k = -1; k <= 1; k++) {
        const t = (t0 + k + THETAS) % THETAS;
        const rho = Math.round(x * COS[t]! + y * SIN[t]!) + diag;
        acc[t * (2 * diag + 1) + rho] = acc[t * (2 * diag + 1) + rho]! + m;
      }
    }
  }
  if (n === 0) return null;
  let best = 0;
  for (let i = 0; i < acc.length; i++) if (acc[i]! > best) best = acc[i]!;
  // Normalised by the ring's total edge energy plus a floor of 4 grey levels per pixel, so an almost empty ring
  // (a plain wall) with one faint line does not read as a border.
  return best / (total + 4 * n);
}
