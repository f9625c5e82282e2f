import { DLIB_BLAZEFACE_TEMPLATE, DLIB_MEAN_FEATURES, featuresFrom68, type LandmarkKind } from './align.js';
import type { Point, Quality, RawImage } from './types.js';

/** Variance of the 4-neighbour Laplacian over the interior of a grey image (low = blurred or flat). */
export function laplacianVariance(grey: RawImage): number {
  if (grey.channels !== 1) throw new Error('laplacianVariance needs a grey image');
  const { width: W, height: H, data } = grey;
  if (W < 3 || H < 3) return 0;
  let sum = 0;
  let sum2 = 0;
  for (let y = 1; y < H - 1; y++) {
    let i = y * W + 1;
    for (let x = 1; x < W - 1; x++, i++) {
      const l = data[i - 1]! + data[i + 1]! + data[i - W]! + data[i + W]! - 4 * data[i]!;
      sum += l;
      sum2 += l * l;
    }
  }
  const n = (W - 2) * (H - 2);
  const mean = sum / n;
  return sum2 / n - mean * mean;
}

export function meanLevel(img: RawImage): number {
  const d = img.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return d.length ? s / d.length : 0;
}

/** Eye centres, nose tip and mouth centre from either landmark set. */
export function faceFeatures(kind: LandmarkKind, landmarks: readonly Point[]): [Point, Point, Point, Point] {
  const f = kind === 'ibug68' ? featuresFrom68(landmarks) : landmarks.slice(0, 4);
  if (f.length < 4) throw new Error('need eyes, nose and mouth');
  return [f[0]!, f[1]!, f[2]!, f[3]!];
}

// Nose-tip depth in front of the eye/mouth plane as a fraction of the eye-to-mouth distance (anthropometric,
// roughly 0.5 of the inter-ocular distance), and where a frontal nose sits between eyes and mouth.
const NOSE_DEPTH = 0.45;
function noseRatio(t: readonly Point[]): number {
  const [r, l, n, m] = t as [Point, Point, Point, Point];
  const ey = (r.y + l.y) / 2;
  return (n.y - ey) / (m.y - ey);
}
const FRONTAL_NOSE_RATIO: Record<LandmarkKind, number> = {
  ibug68: noseRatio(DLIB_MEAN_FEATURES),
  blazeface6: noseRatio(DLIB_BLAZEFACE_TEMPLATE),
};

/**
 * Rough head pose from 2-D landmarks: the nose tip stands in front of the eyes, so turning the head moves it
 * sideways relative to the eye midpoint (yaw, positive = nose toward the image's right) and nodding moves it
 * along the eye–mouth axis (pitch, positive = chin up). Degrees; good to perhaps ±10° — enough to reject
 * profile shots, not a pose estimator.
 */
export function roughPose(kind: LandmarkKind, landmarks: readonly Point[]): { yaw: number; pitch: number; interOcular: number } {
  const [re, le, nose, mouth] = faceFeatures(kind, landmarks);
  const ex = le.x - re.x;
  const ey = le.y - re.y;
  const iod = Math.hypot(ex, ey);
  if (!(iod > 0)) return { yaw: 90, pitch: 0, interOcular: 0 };
  const ux = ex / iod;
  const uy = ey / iod;
  const mx = (le.x + re.x) / 2;
  const my = (le.y + re.y) / 2;
  const h = ((nose.x - mx) * ux + (nose.y - my) * uy) / iod;
  const yaw = (Math.atan(2 * h) * 180) / Math.PI;
  // Vertical axis perpendicular to the eye line, pointing down the face.
  const vx = -uy;
  const vy = ux;
  const noseV = (nose.x - mx) * vx + (nose.y - my) * vy;
  const mouthV = (mouth.x - mx) * vx + (mouth.y - my) * vy;
  const pitch = mouthV > 0 ? (Math.atan((FRONTAL_NOSE_RATIO[kind] - noseV / mouthV) / NOSE_DEPTH) * 180) / Math.PI : 90;
  return { yaw, pitch, interOcular: iod };
}

/** Quality of one face: size from the landmarks in source pixels; sharpness and brightness from the grey chip. */
export function assessQuality(kind: LandmarkKind, landmarks: readonly Point[], greyChip: RawImage): Quality {
  const pose = roughPose(kind, landmarks);
  return {
    faceSizePx: pose.interOcular,
    sharpness: laplacianVariance(greyChip),
    brightness: meanLevel(greyChip),
    yaw: pose.yaw,
    pitch: pose.pitch,
  };
}
