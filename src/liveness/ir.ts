import type { Box, RawImage } from '../vision/types.js';

export interface IrLighting {
  /** Mean grey of the face box (0.6 × box, the skin) in the lit frame minus the dark frame. */
  faceGain: number;
  /** The same for the frame outside 2 × the face box. */
  backgroundGain: number;
}

function meanIn(img: RawImage, x0: number, y0: number, x1: number, y1: number, inside: boolean): number {
  let s = 0;
  let n = 0;
  const step = 2;
  for (let y = 0; y < img.height; y += step) {
    for (let x = 0; x < img.width; x += step) {
      const isIn = x >= x0 && x < x1 && y >= y0 && y < y1;
      if (isIn !== inside) continue;
      s += img.data[(y * img.width + x) * img.channels]!;
      n++;
    }
  }
  return n > 0 ? s / n : 0;
}

function rect(box: Box, k: number): [number, number, number, number] {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return [cx - (box.width * k) / 2, cy - (box.height * k) / 2, cx + (box.width * k) / 2, cy + (box.height * k) / 2];
}

/**
 * How much the IR emitter lights the face against the background, from a lit frame and the emitter's dark frame
 * that came before it. A face at 30–60 cm from the emitter gains far more than the room behind it; a phone or
 * monitor screen emits no near-IR and reflects little, so a replayed face stays dark in both frames.
 */
export function irLighting(lit: RawImage, dark: RawImage | null, box: Box): IrLighting | null {
  if (lit.channels !== 1) return null;
  const [fx0, fy0, fx1, fy1] = rect(box, 0.6);
  const [bx0, by0, bx1, by1] = rect(box, 2.0);
  const faceLit = meanIn(lit, fx0, fy0, fx1, fy1, true);
  const bgLit = meanIn(lit, bx0, by0, bx1, by1, false);
  if (!dark || dark.width !== lit.width || dark.height !== lit.height || dark.channels !== 1) {
    // No dark frame (emitter always on): compare with the background of the same frame.
    return { faceGain: faceLit, backgroundGain: bgLit };
  }
  return {
    faceGain: faceLit - meanIn(dark, fx0, fy0, fx1, fy1, true),
    backgroundGain: bgLit - meanIn(dark, bx0, by0, bx1, by1, false),
  };
}

export interface IrGateSettings {
  /** Smallest face gain in grey levels. */
  min_face_gain: number;
  /** Face gain must be at least this multiple of the background's. */
  min_ratio: number;
}

/** The IR gate: the face must be lit by the emitter, and lit well above the background. */
export function irGatePasses(l: IrLighting, s: IrGateSettings): boolean {
  return l.faceGain >= s.min_face_gain && l.faceGain >= s.min_ratio * Math.max(l.backgroundGain, 1);
}
