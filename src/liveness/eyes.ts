import type { Point } from '../vision/types.js';

/** iBUG 68: subject's right eye 36–41, left eye 42–47 (corner, upper ×2, corner, lower ×2). */
const RIGHT_EYE = [36, 37, 38, 39, 40, 41] as const;
const LEFT_EYE = [42, 43, 44, 45, 46, 47] as const;

function dist(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function earOf(p: readonly Point[], idx: readonly number[]): number {
  const [p1, p2, p3, p4, p5, p6] = idx.map((i) => p[i]!);
  const width = dist(p1!, p4!);
  if (!(width > 0)) return 0;
  return (dist(p2!, p6!) + dist(p3!, p5!)) / (2 * width);
}

/**
 * Eye aspect ratio (Soukupová & Čech 2016), mean of both eyes: lid opening over eye width, about 0.25–0.35 open
 * and under 0.15 shut, independent of face size. Null when the landmarks are not the 68-point set.
 */
export function eyeAspectRatio(landmarks: readonly Point[]): number | null {
  if (landmarks.length !== 68) return null;
  return (earOf(landmarks, RIGHT_EYE) + earOf(landmarks, LEFT_EYE)) / 2;
}

/** Inter-ocular distance (eye centres) of a 68-point set, the scale the landmark cues normalise by. */
export function interOcular(landmarks: readonly Point[]): number {
  const c = (idx: readonly number[]): Point => {
    let x = 0;
    let y = 0;
    for (const i of idx) {
      x += landmarks[i]!.x;
      y += landmarks[i]!.y;
    }
    return { x: x / idx.length, y: y / idx.length };
  };
  return dist(c(RIGHT_EYE), c(LEFT_EYE));
}

/**
 * Blinks in a series of eye aspect ratios: a dip below `closed` between frames above `open`. A photo never
 * blinks; a live person does every few seconds, so this is evidence for, never a requirement of, liveness.
 */
export function countBlinks(ears: readonly number[], open = 0.2, closed = 0.15): number {
  let blinks = 0;
  let state: 'open' | 'closing' | 'unknown' = 'unknown';
  for (const e of ears) {
    if (e >= open) {
      if (state === 'closing') blinks++;
      state = 'open';
    } else if (e < closed && state === 'open') state = 'closing';
  }
  return blinks;
}
