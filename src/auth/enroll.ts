import { performance } from 'node:perf_hooks';
import { meanBrightness, type Frame } from '../camera/camera.js';
import type { NewTemplate } from '../store/store.js';
import { qualityProblem, type FaceEngine, type QualityLimits, type QualityProblem } from './engine.js';

export type EnrollSkip = 'dark' | 'no-face' | 'multiple-faces' | QualityProblem;

export interface EnrollProgress {
  good: number;
  wanted: number;
  /** Why the last frame was not used, if it was not. */
  skipped?: EnrollSkip;
}

export interface EnrollInput {
  nextFrame(deadline: number): Promise<Frame | null>;
  engine: FaceEngine;
  limits: QualityLimits & { dark_threshold: number };
  frames: number;
  /** performance.now() ms. */
  deadline: number;
  onProgress?: (p: EnrollProgress) => void;
}

export interface EnrollResult {
  templates: NewTemplate[];
  good: number;
  seen: number;
  skipped: Record<EnrollSkip, number>;
}

/**
 * Collects `frames` good frames for an enrolment: lit, exactly one face, every quality gate passed. Each good
 * frame gives one template per embedder in use. Returns what it has at the deadline; the caller decides.
 */
export async function collectEnrollment(input: EnrollInput): Promise<EnrollResult> {
  const { engine, limits } = input;
  const templates: NewTemplate[] = [];
  const skipped: Record<EnrollSkip, number> = { dark: 0, 'no-face': 0, 'multiple-faces': 0, 'too-far': 0, 'too-dark': 0, 'too-bright': 0, blurry: 0, pose: 0 };
  let good = 0;
  let seen = 0;
  const skip = (why: EnrollSkip): void => {
    skipped[why]++;
    input.onProgress?.({ good, wanted: input.frames, skipped: why });
  };
  while (good < input.frames) {
    const frame = await input.nextFrame(input.deadline);
    if (!frame || performance.now() >= input.deadline) break;
    seen++;
    if (meanBrightness(frame.image) < limits.dark_threshold) {
      skip('dark');
      continue;
    }
    const faces = await engine.detect(frame.image);
    if (faces.length === 0) {
      skip('no-face');
      continue;
    }
    // Enrolment must be unambiguous: a second face could end up in the wrong person's templates.
    if (faces.length > 1) {
      skip('multiple-faces');
      continue;
    }
    const face = faces[0]!;
    const problem = qualityProblem(face.quality, limits);
    if (problem) {
      skip(problem);
      continue;
    }
    const emb = await engine.embed(frame.image, face);
    for (const m of engine.models) {
      const v = emb.get(m.id);
      if (!v) throw new Error(`engine gave no ${m.id} embedding`);
      templates.push({ id: m.id, sha256: m.sha256, vector: v });
    }
    good++;
    input.onProgress?.({ good, wanted: input.frames });
  }
  return { templates, good, seen, skipped };
}
