import { loadModel, type LoadedModel } from '../models/session.js';
import { LetterboxResizer, type Letterbox } from './resize.js';
import type { Detection, Point, RawImage } from './types.js';

/** `front`: 128×128, faces filling much of the frame (laptop camera). `back`: 256×256, smaller/distant faces. */
export type DetectorModel = 'front' | 'back';

export interface BlazeFaceOptions {
  model?: DetectorModel;
  intraOpThreads?: number;
  /** Minimum sigmoid score; MediaPipe's face detector uses 0.5. */
  minScore?: number;
  /** Overlap above which detections are blended into one (MediaPipe: 0.3). */
  iouThreshold?: number;
}

export interface DetectOptions {
  maxFaces?: number;
  minScore?: number;
}

/** A detection in the model's normalised square (0..1 on both axes, before undoing the letterbox). */
export interface NormDetection {
  cx: number;
  cy: number;
  w: number;
  h: number;
  /** 6 keypoints as x0, y0, x1, y1, … */
  kp: Float32Array;
  score: number;
}

const INPUT_SIZE: Record<DetectorModel, number> = { front: 128, back: 256 };
const NUM_KEYPOINTS = 6;
const VALUES_PER_ANCHOR = 4 + 2 * NUM_KEYPOINTS;
// Both models share one anchor layout: a 16×16 grid with 2 anchors per cell, then an 8×8 grid with 6 per cell.
// Anchors have unit size (MediaPipe's fixed_anchor_size), so an anchor is just its cell centre.
const LAYERS = [
  { cells: 16, perCell: 2 },
  { cells: 8, perCell: 6 },
] as const;

/** Anchor centres, x and y interleaved, in the order the model emits them (row-major cells, anchors within). */
export function blazeFaceAnchors(layer: { cells: number; perCell: number }): Float32Array {
  const { cells, perCell } = layer;
  const out = new Float32Array(cells * cells * perCell * 2);
  let i = 0;
  for (let y = 0; y < cells; y++) {
    for (let x = 0; x < cells; x++) {
      for (let a = 0; a < perCell; a++) {
        out[i++] = (x + 0.5) / cells;
        out[i++] = (y + 0.5) / cells;
      }
    }
  }
  return out;
}

const ANCHORS = LAYERS.map(blazeFaceAnchors);

function sigmoid(x: number): number {
  // MediaPipe clips raw scores to ±100 before the sigmoid.
  const c = x < -100 ? -100 : Math.min(x, 100);
  return 1 / (1 + Math.exp(-c));
}

/**
 * Decodes one output layer: box centre and keypoints are offsets from the anchor in input pixels, box size is in
 * input pixels. Appends detections scoring at least minScore.
 */
export function decodeLayer(scores: Float32Array, boxes: Float32Array, anchors: Float32Array, inputSize: number, minScore: number, out: NormDetection[]): void {
  const n = anchors.length / 2;
  if (scores.length < n || boxes.length < n * VALUES_PER_ANCHOR) throw new Error('BlazeFace: output shorter than its anchors');
  // Comparing logits avoids an exp per anchor; only survivors get the sigmoid.
  const minLogit = minScore <= 0 ? -Infinity : minScore >= 1 ? Infinity : Math.log(minScore / (1 - minScore));
  const inv = 1 / inputSize;
  for (let i = 0; i < n; i++) {
    const logit = scores[i]!;
    if (!(logit >= minLogit)) continue;
    const ax = anchors[2 * i]!;
    const ay = anchors[2 * i + 1]!;
    const b = i * VALUES_PER_ANCHOR;
    const kp = new Float32Array(2 * NUM_KEYPOINTS);
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      kp[2 * k] = ax + boxes[b + 4 + 2 * k]! * inv;
      kp[2 * k + 1] = ay + boxes[b + 5 + 2 * k]! * inv;
    }
    out.push({
      cx: ax + boxes[b]! * inv,
      cy: ay + boxes[b + 1]! * inv,
      w: boxes[b + 2]! * inv,
      h: boxes[b + 3]! * inv,
      kp,
      score: sigmoid(logit),
    });
  }
}

export function iou(a: NormDetection, b: NormDetection): number {
  const ax0 = a.cx - a.w / 2;
  const ay0 = a.cy - a.h / 2;
  const bx0 = b.cx - b.w / 2;
  const by0 = b.cy - b.h / 2;
  const ix = Math.min(ax0 + a.w, bx0 + b.w) - Math.max(ax0, bx0);
  const iy = Math.min(ay0 + a.h, by0 + b.h) - Math.max(ay0, by0);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's weighted non-maximum suppression: take the best remaining detection, gather every detection that
 * overlaps it by more than the threshold, and replace the group by the score-weighted mean of their boxes and
 * keypoints (keeping the best score). Blending many anchors steadies boxes and keypoints from frame to frame.
 */
export function weightedNms(dets: NormDetection[], iouThreshold: number, maxFaces = Infinity): NormDetection[] {
  const remaining = dets.slice().sort((p, q) => q.score - p.score);
  const out: NormDetection[] = [];
  while (remaining.length > 0 && out.length < maxFaces) {
    const top = remaining[0]!;
    const group: NormDetection[] = [];
    const rest: NormDetection[] = [];
    for (const d of remaining) (d === top || iou(top, d) > iouThreshold ? group : rest).push(d);
    let sw = 0;
    let cx = 0;
    let cy = 0;
    let w = 0;
    let h = 0;
    const kp = new Float32Array(2 * NUM_KEYPOINTS);
    for (const d of group) {
      const s = d.score;
      sw += s;
      cx += d.cx * s;
      cy += d.cy * s;
      w += d.w * s;
      h += d.h * s;
      for (let k = 0; k < kp.length; k++) kp[k]! += d.kp[k]! * s;
    }
    for (let k = 0; k < kp.length; k++) kp[k]! /= sw;
    out.push({ cx: cx / sw, cy: cy / sw, w: w / sw, h: h / sw, kp, score: top.score });
    remaining.length = 0;
    remaining.push(...rest);
  }
  return out;
}

/** Undoes the letterbox: normalised model coordinates → source-image pixels. */
export function toSourcePixels(d: NormDetection, lb: Letterbox): Detection {
  const fx = (x: number): number => (x * lb.size - lb.padX) / lb.scaleX;
  const fy = (y: number): number => (y * lb.size - lb.padY) / lb.scaleY;
  const keypoints: Point[] = [];
  for (let k = 0; k < NUM_KEYPOINTS; k++) keypoints.push({ x: fx(d.kp[2 * k]!), y: fy(d.kp[2 * k + 1]!) });
  const x0 = fx(d.cx - d.w / 2);
  const y0 = fy(d.cy - d.h / 2);
  return {
    box: { x: x0, y: y0, width: fx(d.cx + d.w / 2) - x0, height: fy(d.cy + d.h / 2) - y0 },
    score: d.score,
    keypoints,
  };
}

/** BlazeFace face detector (MediaPipe short-range "front" or full "back" model) on ONNX Runtime. */
export class BlazeFace {
  readonly inputSize: number;
  readonly modelSha256: string;
  private readonly resizer: LetterboxResizer;
  private readonly minScore: number;
  private readonly iouThreshold: number;
  private readonly inputName: string;
  private readonly outputNames: readonly string[];

  private constructor(
    private readonly model: LoadedModel,
    readonly variant: DetectorModel,
    opts: BlazeFaceOptions,
  ) {
    this.inputSize = INPUT_SIZE[variant];
    this.modelSha256 = model.sha256;
    this.resizer = new LetterboxResizer(this.inputSize);
    this.minScore = opts.minScore ?? 0.5;
    this.iouThreshold = opts.iouThreshold ?? 0.3;
    const input = model.inputNames[0];
    if (!input || model.outputNames.length !== 4) throw new Error(`BlazeFace ${variant}: unexpected model signature`);
    this.inputName = input;
    // Outputs: scores of layer 1 and 2, then boxes of layer 1 and 2 (names Identity, Identity_1, _2, _3).
    this.outputNames = model.outputNames.slice().sort();
  }

  static async load(opts: BlazeFaceOptions = {}): Promise<BlazeFace> {
    const variant = opts.model ?? 'front';
    const model = await loadModel(`blazeface-${variant}`, { ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}) });
    return new BlazeFace(model, variant, opts);
  }

  /** Model-space detections after NMS plus the letterbox used, for callers that need both. */
  async detectNormalised(img: RawImage, opts: DetectOptions = {}): Promise<{ dets: NormDetection[]; letterbox: Letterbox }> {
    const lb = this.resizer.run(img);
    const S = this.inputSize;
    const res = await this.model.run({ [this.inputName]: { data: this.resizer.output, dims: [1, S, S, 3] } }, this.outputNames);
    const [s1, s2, b1, b2] = this.outputNames.map((n) => {
      const t = res[n];
      if (!t) throw new Error(`BlazeFace: missing output ${n}`);
      return t.data;
    }) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const minScore = opts.minScore ?? this.minScore;
    const raw: NormDetection[] = [];
    decodeLayer(s1, b1, ANCHORS[0]!, S, minScore, raw);
    decodeLayer(s2, b2, ANCHORS[1]!, S, minScore, raw);
    return { dets: weightedNms(raw, this.iouThreshold, opts.maxFaces ?? Infinity), letterbox: lb };
  }

  /** Faces in source pixels, best first. */
  async detect(img: RawImage, opts: DetectOptions = {}): Promise<Detection[]> {
    const { dets, letterbox } = await this.detectNormalised(img, opts);
    return dets.map((d) => toSourcePixels(d, letterbox));
  }

  async close(): Promise<void> {
    await this.model.release();
  }
}
