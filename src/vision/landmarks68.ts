/**
 * face-api's 68-point landmark net on ONNX Runtime. Crops the face box the way face-api does (pad the box to a
 * square with black, centred; resize to 112 with TensorFlow's bilinear sampling) straight from the source
 * image into the model's planar input, then maps the 136 outputs back to source-image pixels.
 */
import { loadModel, type FloatTensor, type LoadedModel, type SessionOptions } from '../models/session.js';
import { SerialSession } from '../models/serial-session.js';
import { LANDMARK_INPUT_SIZE, LANDMARK_POINTS } from '../models/faceapi/landmark68.js';
import type { Landmarker } from './landmarker.js';
import type { Box, Point, RawImage } from './types.js';

export const LANDMARK68_MODEL_ID = 'faceapi-landmark68';

/** The integer square face-api feeds its net: the rounded box, padded on its short side (zeros). */
export interface SquareCrop {
  /** Rounded box (pixels outside it are padding, i.e. black). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Side of the padded square, and where its top-left corner lies in source pixels. */
  side: number;
  originX: number;
  originY: number;
}

export function squareCrop(box: Box): SquareCrop {
  if (![box.x, box.y, box.width, box.height].every(Number.isFinite)) {
    throw new Error(`face box ${JSON.stringify(box)} is not finite`);
  }
  const x = Math.round(box.x);
  const y = Math.round(box.y);
  const width = Math.round(box.x + box.width) - x;
  const height = Math.round(box.y + box.height) - y;
  if (!(width >= 1 && height >= 1)) throw new Error(`face box ${JSON.stringify(box)} is empty`);
  const side = Math.max(width, height);
  // face-api's padToSquare puts round(diff / 2) after the image and the rest before it.
  const originX = x - (side - width - Math.round((side - width) / 2));
  const originY = y - (side - height - Math.round((side - height) / 2));
  return { x, y, width, height, side, originX, originY };
}

/** Per output coordinate: the two source indices (−1 = black) and the weight of the second. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float32Array;
}

/**
 * tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=false) along one axis of the padded square:
 * output u samples square position u * side / out. Square index i is source index origin + i, black when it
 * falls outside the box (padding) or the image.
 */
function axisTaps(out: number, side: number, origin: number, lo: number, hi: number, taps: AxisTaps): void {
  const ratio = side / out;
  for (let u = 0; u < out; u++) {
    const p = u * ratio;
    const a = Math.floor(p);
    const b = Math.min(a + 1, side - 1);
    const sa = origin + a;
    const sb = origin + b;
    taps.i0[u] = sa >= lo && sa < hi ? sa : -1;
    taps.i1[u] = sb >= lo && sb < hi ? sb : -1;
    taps.f[u] = p - a;
  }
}

function newTaps(n: number): AxisTaps {
  return { i0: new Int32Array(n), i1: new Int32Array(n), f: new Float32Array(n) };
}

/**
 * Writes the model input for `crop` of `image` into planar float `dst` [3, out, out] (grey replicated).
 * `tx`/`ty` are scratch buffers so the hot path allocates nothing.
 */
export function cropToPlanar(image: RawImage, crop: SquareCrop, out: number, dst: Float32Array, tx = newTaps(out), ty = newTaps(out)): void {
  const { width: W, height: H, channels: C, data } = image;
  if (data.length !== W * H * C) throw new Error(`image data holds ${data.length} bytes, expected ${W * H * C}`);
  axisTaps(out, crop.side, crop.originX, Math.max(crop.x, 0), Math.min(crop.x + crop.width, W), tx);
  axisTaps(out, crop.side, crop.originY, Math.max(crop.y, 0), Math.min(crop.y + crop.height, H), ty);
  const plane = out * out;
  for (let v = 0; v < out; v++) {
    const r0 = ty.i0[v]!;
    const r1 = ty.i1[v]!;
    const fy = ty.f[v]!;
    for (let u = 0; u < out; u++) {
      const c0 = tx.i0[u]!;
      const c1 = tx.i1[u]!;
      const fx = tx.f[u]!;
      const o = v * out + u;
      for (let c = 0; c < C; c++) {
        const p00 = r0 >= 0 && c0 >= 0 ? data[(r0 * W + c0) * C + c]! : 0;
        const p01 = r0 >= 0 && c1 >= 0 ? data[(r0 * W + c1) * C + c]! : 0;
        const p10 = r1 >= 0 && c0 >= 0 ? data[(r1 * W + c0) * C + c]! : 0;
        const p11 = r1 >= 0 && c1 >= 0 ? data[(r1 * W + c1) * C + c]! : 0;
        const top = p00 + (p01 - p00) * fx;
        const bottom = p10 + (p11 - p10) * fx;
        dst[c * plane + o] = top + (bottom - top) * fy;
      }
    }
  }
  // Grey: the net wants RGB; replicate the one plane.
  if (C === 1) {
    dst.copyWithin(plane, 0, plane);
    dst.copyWithin(2 * plane, 0, plane);
  }
}

/**
 * Maps the net's relative outputs to source pixels. face-api's postProcess assumes the padding is exactly
 * half the difference on each side; we use where the padding really went, which differs by half a pixel of
 * the square only when that difference is odd.
 */
export function toSourcePoints(raw: Float32Array, crop: SquareCrop, offset = 0): Point[] {
  const pts: Point[] = new Array<Point>(LANDMARK_POINTS);
  for (let i = 0; i < LANDMARK_POINTS; i++) {
    pts[i] = {
      x: crop.originX + raw[offset + 2 * i]! * crop.side,
      y: crop.originY + raw[offset + 2 * i + 1]! * crop.side,
    };
  }
  return pts;
}

export class FaceApiLandmarker implements Landmarker {
  readonly id = LANDMARK68_MODEL_ID;
  readonly count = LANDMARK_POINTS;
  readonly modelSha256: string;
  private readonly input: Float32Array;
  private readonly tensor: FloatTensor;
  private readonly tx = newTaps(LANDMARK_INPUT_SIZE);
  private readonly ty = newTaps(LANDMARK_INPUT_SIZE);
  /** Serialises calls: they share one input buffer. */
  private readonly runner: SerialSession;

  private constructor(model: LoadedModel) {
    this.modelSha256 = model.sha256;
    this.runner = new SerialSession(model, 'landmarker');
    const s = LANDMARK_INPUT_SIZE;
    this.input = new Float32Array(3 * s * s);
    this.tensor = { data: this.input, dims: [1, 3, s, s] };
  }

  static async load(opts: SessionOptions = {}): Promise<FaceApiLandmarker> {
    return new FaceApiLandmarker(await loadModel(LANDMARK68_MODEL_ID, opts));
  }

  /** The raw 136 outputs for a box (relative to the padded 112×112 square), for tests and diagnostics. */
  detectRaw(image: RawImage, box: Box): Promise<{ raw: Float32Array; crop: SquareCrop }> {
    const crop = squareCrop(box);
    return this.runner.serial(async () => {
      cropToPlanar(image, crop, LANDMARK_INPUT_SIZE, this.input, this.tx, this.ty);
      const raw = await this.runner.output({ input: this.tensor }, 'landmarks', 2 * LANDMARK_POINTS);
      return { raw, crop };
    });
  }

  async detect(image: RawImage, box: Box): Promise<Point[]> {
    const { raw, crop } = await this.detectRaw(image, box);
    return toSourcePoints(raw, crop);
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
