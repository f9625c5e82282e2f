/**
 * MediaPipe FaceMesh (Human's facemesh.json, converted to ONNX) as a Landmarker: 468 points in MediaPipe's
 * mesh order, in source-image pixels.
 *
 * Crop and input follow Human 3.3.6 (src/face/blazeface.ts, facemeshutil.ts): the detector's raw box is
 * enlarged 1.4× about its centre (config.face.detector.scale) and squared to its longer side, unrotated; the
 * square is resampled bilinearly to 192×192 (zeros outside the image) and scaled to 0..1. The mesh comes back
 * in crop pixels (x, y; z relative depth) and maps to the image as box origin + coord × side / 192.
 */
import { loadModel, type FloatTensor, type LoadedModel, type SessionOptions } from '../models/session.js';
import { SerialSession } from '../models/serial-session.js';
import type { Landmarker } from './landmarker.js';
import type { Box, Point, RawImage } from './types.js';

export const FACEMESH_MODEL_ID = 'human-facemesh';
export const FACEMESH_SIZE = 192;
export const FACEMESH_POINTS = 468;
/** Human's detector box enlargement before the mesh crop. */
export const FACEMESH_BOX_SCALE = 1.4;
const INPUT = 'input_1';
const MESH = 'output_mesh';
const FLAG = 'output_faceflag';

/** The square the mesh model sees, in source pixels. */
export interface MeshCrop {
  x0: number;
  y0: number;
  side: number;
}

export function meshCrop(box: Box, scale = FACEMESH_BOX_SCALE): MeshCrop {
  if (![box.x, box.y, box.width, box.height].every(Number.isFinite) || !(box.width > 0 && box.height > 0)) {
    throw new Error(`face box ${JSON.stringify(box)} is empty or not finite`);
  }
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const side = scale * Math.max(box.width, box.height);
  return { x0: cx - side / 2, y0: cy - side / 2, side };
}

/** Per output coordinate along one axis: two source indices (−1 = outside, reads 0) and the second's weight. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float32Array;
}

function newTaps(n: number): Taps {
  return { i0: new Int32Array(n), i1: new Int32Array(n), f: new Float32Array(n) };
}

function axisTaps(out: number, origin: number, side: number, limit: number, t: Taps): void {
  const step = side / out;
  for (let u = 0; u < out; u++) {
    // Pixel centres map to pixel centres.
    const p = origin + (u + 0.5) * step - 0.5;
    const a = Math.floor(p);
    t.i0[u] = a >= 0 && a < limit ? a : -1;
    t.i1[u] = a + 1 >= 0 && a + 1 < limit ? a + 1 : -1;
    t.f[u] = p - a;
  }
}

/**
 * Writes the crop as NHWC float 0..1 [size, size, 3] into `dst` (grey replicated). `tx`/`ty` are scratch so
 * the hot path allocates nothing.
 */
export function cropToNhwc01(image: RawImage, crop: MeshCrop, size: number, dst: Float32Array, tx = newTaps(size), ty = newTaps(size)): void {
  const { width: W, height: H, channels: C, data } = image;
  if (C !== 1 && C !== 3) throw new Error(`image must have 1 or 3 channels, got ${String(C)}`);
  if (data.length !== W * H * C) throw new Error(`image data holds ${data.length} bytes, expected ${W * H * C}`);
  if (dst.length < size * size * 3) throw new Error('input buffer too small');
  axisTaps(size, crop.x0, crop.side, W, tx);
  axisTaps(size, crop.y0, crop.side, H, ty);
  const k = 1 / 255;
  const px = (y: number, x: number, c: number): number => (y < 0 || x < 0 ? 0 : (data[(y * W + x) * C + c] as number));
  let o = 0;
  for (let v = 0; v < size; v++) {
    const y0 = ty.i0[v] as number;
    const y1 = ty.i1[v] as number;
    const fy = ty.f[v] as number;
    for (let u = 0; u < size; u++) {
      const x0 = tx.i0[u] as number;
      const x1 = tx.i1[u] as number;
      const fx = tx.f[u] as number;
      for (let c = 0; c < 3; c++) {
        const cc = C === 1 ? 0 : c;
        const top = px(y0, x0, cc) * (1 - fx) + px(y0, x1, cc) * fx;
        const bot = px(y1, x0, cc) * (1 - fx) + px(y1, x1, cc) * fx;
        dst[o++] = (top * (1 - fy) + bot * fy) * k;
      }
    }
  }
}

export interface MeshResult {
  /** 468 points in source pixels; z is MediaPipe's relative depth scaled like x. */
  points: { x: number; y: number; z: number }[];
  /** The model's face-presence score (sigmoid, 0..1); Human drops meshes below 0.2 (its minConfidence). */
  score: number;
}

export class FaceMeshLandmarker implements Landmarker {
  readonly id = 'facemesh';
  readonly count = FACEMESH_POINTS;
  readonly modelSha256: string;
  private readonly input = new Float32Array(FACEMESH_SIZE * FACEMESH_SIZE * 3);
  private readonly tensor: FloatTensor;
  private readonly tx = newTaps(FACEMESH_SIZE);
  private readonly ty = newTaps(FACEMESH_SIZE);
  /** Serialises calls: they share one input buffer. */
  private readonly runner: SerialSession;

  private constructor(model: LoadedModel) {
    this.modelSha256 = model.sha256;
    this.runner = new SerialSession(model, 'facemesh landmarker');
    this.tensor = { data: this.input, dims: [1, FACEMESH_SIZE, FACEMESH_SIZE, 3] };
  }

  static async load(opts: SessionOptions = {}): Promise<FaceMeshLandmarker> {
    const model = await loadModel(FACEMESH_MODEL_ID, opts);
    const { inputNames, outputNames } = model;
    if (!inputNames.includes(INPUT) || !outputNames.includes(MESH) || !outputNames.includes(FLAG)) {
      await model.release();
      throw new Error(`${FACEMESH_MODEL_ID}.onnx lacks ${INPUT}/${MESH}/${FLAG}; rebuild models`);
    }
    return new FaceMeshLandmarker(model);
  }

  /** The mesh with depth and the face-presence score. */
  detectMesh(image: RawImage, box: Box): Promise<MeshResult> {
    return this.runner.serial(async (): Promise<MeshResult> => {
      const crop = meshCrop(box);
      cropToNhwc01(image, crop, FACEMESH_SIZE, this.input, this.tx, this.ty);
      const out = await this.runner.run({ [INPUT]: this.tensor }, [MESH, FLAG]);
      const mesh = out[MESH]?.data;
      const flag = out[FLAG]?.data;
      if (!mesh || mesh.length !== 3 * FACEMESH_POINTS || !flag || flag.length !== 1) {
        throw new Error('facemesh returned outputs of unexpected size');
      }
      const k = crop.side / FACEMESH_SIZE;
      const points = new Array<{ x: number; y: number; z: number }>(FACEMESH_POINTS);
      for (let i = 0; i < FACEMESH_POINTS; i++) {
        points[i] = { x: crop.x0 + (mesh[3 * i] as number) * k, y: crop.y0 + (mesh[3 * i + 1] as number) * k, z: (mesh[3 * i + 2] as number) * k };
      }
      return { points, score: flag[0] as number };
    });
  }

  async detect(image: RawImage, box: Box): Promise<Point[]> {
    const { points } = await this.detectMesh(image, box);
    return points.map(({ x, y }) => ({ x, y }));
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

/**
 * MediaPipe mesh index for each iBUG-68 point (dlib order), the correspondence commonly used to drive 68-point
 * code from FaceMesh. Checked on lfw-dev against face-api's 68-point net (test/facemesh.test.ts): inner points
 * (brows, nose, eyes, mouth) agree to 0.03-0.10 of the inter-ocular distance; jaw points differ more (0.1-0.25)
 * because iBUG's jaw follows the silhouette while mesh points sit on the surface.
 */
export const MESH_TO_IBUG68: readonly number[] = [
  127,
  234,
  132,
  58,
  172,
  150,
  149,
  148,
  152,
  377,
  378,
  379,
  397,
  288,
  361,
  454,
  356, // jaw 0-16
  70,
  63,
  105,
  66,
  107, // right brow 17-21 (subject's right)
  336,
  296,
  334,
  293,
  300, // left brow 22-26
  168,
  197,
  5,
  4, // nose bridge 27-30
  75,
  97,
  2,
  326,
  305, // nostrils 31-35
  33,
  160,
  158,
  133,
  153,
  144, // right eye 36-41
  362,
  385,
  387,
  263,
  373,
  380, // left eye 42-47
  61,
  39,
  37,
  0,
  267,
  269,
  291, // upper outer lip 48-54
  405,
  314,
  17,
  84,
  181, // lower outer lip 55-59
  78,
  82,
  13,
  312,
  308, // upper inner lip 60-64
  317,
  14,
  87, // lower inner lip 65-67
];

/** The 68 iBUG-order points taken from a 468-point mesh. */
export function meshToIbug68(points: readonly Point[]): Point[] {
  if (points.length < FACEMESH_POINTS) throw new Error(`need ${FACEMESH_POINTS} mesh points, got ${points.length}`);
  return MESH_TO_IBUG68.map((i) => {
    const p = points[i] as Point;
    return { x: p.x, y: p.y };
  });
}

/**
 * FaceMesh presented as a 68-point (iBUG order) landmarker, so dlib-template alignment can run on it and be
 * compared like for like with face-api's 68-point net.
 */
export class FaceMesh68Landmarker implements Landmarker {
  readonly id = 'facemesh68';
  readonly count = 68;

  constructor(readonly mesh: FaceMeshLandmarker) {}

  static async load(opts: SessionOptions = {}): Promise<FaceMesh68Landmarker> {
    return new FaceMesh68Landmarker(await FaceMeshLandmarker.load(opts));
  }

  async detect(image: RawImage, box: Box): Promise<Point[]> {
    return meshToIbug68((await this.mesh.detectMesh(image, box)).points);
  }

  close(): Promise<void> {
    return this.mesh.close();
  }
}
