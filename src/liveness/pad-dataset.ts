/**
 * Presentation-attack data sets laid out as CLASS/SUBJECT/SEQUENCE-FRAME.jpg (nuaa-dev): `live` is bona fide,
 * every other class name is an attack type. Also turns their frames into PAD features through the same face
 * pipeline the daemon runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { byName, IMAGE_EXTENSIONS } from '../eval/dataset.js';
import { scoringFor } from '../match/calibration.js';
import { decodeFile } from '../vision/decode.js';
import { FacePipeline, type FaceResult, type LandmarkerId } from '../vision/pipeline.js';
import type { Box, Point } from '../vision/types.js';
import { padFeatures, PAD_FEATURES, type PadFeatureConfig } from './pad-features.js';

export const BONA_FIDE_CLASS = 'live';

export interface PadFrame {
  /** Absolute path. */
  readonly path: string;
  /** CLASS/SUBJECT/FILE, for reports. */
  readonly rel: string;
  /** `live` or the attack type (e.g. `print`). */
  readonly cls: string;
  readonly attack: boolean;
  readonly subject: string;
  /** The file name before the last `-` (the whole stem when there is none). */
  readonly sequence: string;
}

/** Every frame, sorted by class, subject and file name (so each sequence's frames are in time order). */
export function listPadDataset(root: string): PadFrame[] {
  const dirs = (p: string): string[] =>
    fs
      .readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(byName);
  let classes: string[];
  try {
    classes = dirs(root);
  } catch (err) {
    throw new Error(`cannot read PAD dataset ${root}: ${(err as Error).message}`);
  }
  const frames: PadFrame[] = [];
  for (const cls of classes) {
    for (const subject of dirs(path.join(root, cls))) {
      const dir = path.join(root, cls, subject);
      const files = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
        .map((e) => e.name)
        .sort(byName);
      for (const f of files) {
        const stem = path.basename(f, path.extname(f));
        const dash = stem.lastIndexOf('-');
        frames.push({
          path: path.join(dir, f),
          rel: `${cls}/${subject}/${f}`,
          cls,
          attack: cls !== BONA_FIDE_CLASS,
          subject,
          sequence: dash > 0 ? stem.slice(0, dash) : stem,
        });
      }
    }
  }
  if (!frames.some((f) => !f.attack) || !frames.some((f) => f.attack)) {
    throw new Error(`PAD dataset ${root} needs a "${BONA_FIDE_CLASS}" class and at least one attack class (CLASS/SUBJECT/SEQUENCE-FRAME.jpg)`);
  }
  return frames;
}

/**
 * The face pipeline as the daemon runs it for detection: BlazeFace, then the landmarker the shipped recognition
 * calibration was measured with (calibration/face-api.json "scoring.landmarker"); no embedding.
 */
export async function loadPadPipeline(opts: { intraOpThreads?: number } = {}): Promise<FacePipeline> {
  const scoring = scoringFor('face-api') as Record<string, unknown>;
  const landmarker = typeof scoring.landmarker === 'string' ? (scoring.landmarker as LandmarkerId) : '68';
  return FacePipeline.load({
    embedders: [],
    landmarker,
    ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
  });
}

/** The face verifyFace decides on: the largest one in view (VisionEngine.detect's order). */
export function largestFace(faces: readonly FaceResult[]): FaceResult | undefined {
  let best: FaceResult | undefined;
  for (const f of faces) if (!best || f.box.width * f.box.height > best.box.width * best.box.height) best = f;
  return best;
}

/** Where the face is in a frame (the pipeline's box and 68 landmarks), or null when none was found. */
export type FrameFace = { box: Box; landmarks: Point[] } | null;

/** Features of one frame, or null when no face with 68 landmarks was found. */
export type FrameFeatures = Float32Array | null;

/** In-process caches: eval and training run the pipeline on each file once per run. */
const faceCache = new Map<string, FrameFace>();
const featureCache = new Map<string, FrameFeatures>();

/** The largest face of each frame, through the pipeline (cached by path). */
export async function findPadFaces(
  frames: readonly PadFrame[],
  pipeline: FacePipeline,
  onProgress?: (done: number, total: number) => void,
): Promise<FrameFace[]> {
  const out: FrameFace[] = [];
  for (const [i, f] of frames.entries()) {
    let face = faceCache.get(f.path);
    if (face === undefined) {
      const res = await pipeline.analyze(await decodeFile(f.path), { embed: false });
      const best = largestFace(res.faces);
      face = best && best.landmarks.length === 68 ? { box: best.box, landmarks: best.landmarks } : null;
      faceCache.set(f.path, face);
    }
    out.push(face);
    onProgress?.(i + 1, frames.length);
  }
  return out;
}

/** PAD features of each frame (cached by path and feature settings); null where no face was found. */
export async function extractPadFeatures(
  frames: readonly PadFrame[],
  pipeline: FacePipeline,
  opts: { config?: PadFeatureConfig; onProgress?: (done: number, total: number) => void } = {},
): Promise<FrameFeatures[]> {
  const cfg = opts.config ?? PAD_FEATURES;
  const key = JSON.stringify(cfg);
  const faces = await findPadFaces(frames, pipeline, opts.onProgress);
  const out: FrameFeatures[] = [];
  for (const [i, f] of frames.entries()) {
    const k = `${key}\0${f.path}`;
    let feat = featureCache.get(k);
    if (feat === undefined) {
      const face = faces[i]!;
      feat = face ? padFeatures({ image: await decodeFile(f.path), ...face }, cfg) : null;
      featureCache.set(k, feat);
    }
    out.push(feat);
  }
  return out;
}
