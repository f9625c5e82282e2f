import type { Point } from '../vision/types.js';
import { interOcular } from './eyes.js';

/** Solves A x = b (n×n, row-major) by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[piv * n + c]!)) piv = r;
    if (Math.abs(a[piv * n + c]!) < 1e-12) return null;
    if (piv !== c) {
      for (let k = 0; k < n; k++) {
        const t = a[c * n + k]!;
        a[c * n + k] = a[piv * n + k]!;
        a[piv * n + k] = t;
      }
      const t = b[c]!;
      b[c] = b[piv]!;
      b[piv] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / a[c * n + c]!;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r * n + k] = a[r * n + k]! - f * a[c * n + k]!;
      b[r] = b[r]! - f * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r * n + k]! * x[k]!;
    x[r] = s / a[r * n + r]!;
  }
  return x;
}

/** Translate to the centroid and scale to mean distance √2 (Hartley), so the fit is well conditioned. */
function normaliser(p: readonly Point[]): { cx: number; cy: number; s: number } {
  let cx = 0;
  let cy = 0;
  for (const q of p) {
    cx += q.x;
    cy += q.y;
  }
  cx /= p.length;
  cy /= p.length;
  let d = 0;
  for (const q of p) d += Math.hypot(q.x - cx, q.y - cy);
  d /= p.length;
  return { cx, cy, s: d > 0 ? Math.SQRT2 / d : 1 };
}

/**
 * Least-squares homography (h33 = 1) mapping `from` onto `to`, returned as the 3×3 matrix in normalised
 * coordinates plus the normalisers; null when degenerate.
 */
export function fitHomography(from: readonly Point[], to: readonly Point[]): ((p: Point) => Point) | null {
  const n = from.length;
  if (n < 4 || to.length !== n) return null;
  const nf = normaliser(from);
  const nt = normaliser(to);
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const row = new Float64Array(8);
  const add = (r: Float64Array, rhs: number): void => {
    for (let i = 0; i < 8; i++) {
      atb[i] = atb[i]! + r[i]! * rhs;
      for (let j = 0; j < 8; j++) ata[i * 8 + j] = ata[i * 8 + j]! + r[i]! * r[j]!;
    }
  };
  for (let i = 0; i < n; i++) {
    const x = (from[i]!.x - nf.cx) * nf.s;
    const y = (from[i]!.y - nf.cy) * nf.s;
    const u = (to[i]!.x - nt.cx) * nt.s;
    const v = (to[i]!.y - nt.cy) * nt.s;
    row.set([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    add(row, u);
    row.set([0, 0, 0, x, y, 1, -v * x, -v * y]);
    add(row, v);
  }
  const h = solve(ata, atb, 8);
  if (!h) return null;
  return (p: Point): Point => {
    const x = (p.x - nf.cx) * nf.s;
    const y = (p.y - nf.cy) * nf.s;
    const w = h[6]! * x + h[7]! * y + 1;
    const u = (h[0]! * x + h[1]! * y + h[2]!) / w;
    const v = (h[3]! * x + h[4]! * y + h[5]!) / w;
    return { x: u / nt.s + nt.cx, y: v / nt.s + nt.cy };
  };
}

export interface Planarity {
  /** RMS distance between the landmarks and the best homography's prediction, over inter-ocular distance. */
  residual: number;
  /** RMS landmark displacement between the two frames, over inter-ocular distance: how much there was to see. */
  motion: number;
}

/**
 * How well one homography explains the 68 landmarks moving from frame a to frame b. A printed photo is a plane:
 * whatever way it is moved, a homography maps it exactly, and what is left is the landmark net's jitter. A head
 * turning shows parallax (nose against cheeks) and expression the homography cannot follow. With little motion
 * both read as jitter, which is why `motion` is reported alongside.
 */
export function planarity(a: readonly Point[], b: readonly Point[]): Planarity | null {
  if (a.length !== 68 || b.length !== 68) return null;
  const iod = (interOcular(a) + interOcular(b)) / 2;
  if (!(iod > 0)) return null;
  const h = fitHomography(a, b);
  if (!h) return null;
  let r2 = 0;
  let m2 = 0;
  for (let i = 0; i < 68; i++) {
    const p = h(a[i]!);
    r2 += (p.x - b[i]!.x) ** 2 + (p.y - b[i]!.y) ** 2;
    m2 += (a[i]!.x - b[i]!.x) ** 2 + (a[i]!.y - b[i]!.y) ** 2;
  }
  return { residual: Math.sqrt(r2 / 68) / iod, motion: Math.sqrt(m2 / 68) / iod };
}
