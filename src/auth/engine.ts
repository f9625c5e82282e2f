import type { Box, Point, Quality, RawImage } from '../vision/types.js';
import type { ModelRef } from '../store/store.js';

/** A face found in a frame, before embedding: enough to gate on quality without paying for the embedders. */
export interface FoundFace {
  box: Box;
  score: number;
  quality: Quality;
  /** The 68 iBUG landmarks in source pixels when the engine's landmarker gives them (the liveness cues need them). */
  landmarks?: readonly Point[];
}

/**
 * What the daemon and `facegate enroll/test` need from the vision stack, behind one small interface so the
 * request handling can be tested without models (test/daemon-server.test.ts) and the real adapter
 * (vision-engine.ts) can follow the pipeline's API.
 */
export interface FaceEngine {
  /** Embedders in use; templates are stored and looked up per (id, sha256). */
  readonly models: readonly ModelRef[];
  /** Faces in an image, largest first. */
  detect(image: RawImage): Promise<FoundFace[]>;
  /** Probe embeddings of one detected face per model id, unit length (src/embed/probe.ts). */
  embed(image: RawImage, face: FoundFace): Promise<ReadonlyMap<string, Float32Array>>;
  /**
   * A matcher for one user's stored templates (per model id) at a target FAR, or null when the templates do not
   * cover the models this engine decides with (the user must re-enrol).
   */
  matcher(templates: ReadonlyMap<string, readonly Float32Array[]>, targetFar: number): UserMatcher | null;
  close(): Promise<void>;
}

export interface UserMatcher {
  /** Decision rule: accept iff score > threshold. */
  readonly threshold: number;
  score(embeddings: ReadonlyMap<string, Float32Array>): number;
}

/** Quality gate limits (config [verify]). */
export interface QualityLimits {
  min_face_px: number;
  min_sharpness: number;
  min_brightness: number;
  max_brightness: number;
  max_yaw: number;
  max_pitch: number;
}

export type QualityProblem = 'too-far' | 'blurry' | 'too-dark' | 'too-bright' | 'pose';

/** The first quality gate a face fails, or null if it passes them all. */
export function qualityProblem(q: Quality, lim: QualityLimits): QualityProblem | null {
  if (!(q.faceSizePx >= lim.min_face_px)) return 'too-far';
  if (!(q.brightness >= lim.min_brightness)) return 'too-dark';
  if (!(q.brightness <= lim.max_brightness)) return 'too-bright';
  if (!(q.sharpness >= lim.min_sharpness)) return 'blurry';
  if (!(Math.abs(q.yaw) <= lim.max_yaw) || !(Math.abs(q.pitch) <= lim.max_pitch)) return 'pose';
  return null;
}
