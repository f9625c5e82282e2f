import { performance } from 'node:perf_hooks';
import type { Frame } from '../camera/camera.js';
import { qualityProblem, type FaceEngine } from '../auth/engine.js';
import { verifyFace, type VerifySettings } from '../auth/verify.js';
import type { CueScores, FusionParams } from '../liveness/fusion.js';
import { fitFusion, type CueSequence, type FusionFit } from '../liveness/fusion-fit.js';
import { LivenessChecker, type PadScorer } from '../liveness/judge.js';
import { decodeFile } from '../vision/decode.js';
import { BONA_FIDE, type PadDataset, type PadSequence } from './pad-dataset.js';

/** Frames of a subject's first live sequence used to enrol it; never part of an attempt. */
export const ENROL_FRAMES = 5;

/** One attempt: N consecutive frames of one sequence, played as the camera. */
export interface PadAttempt {
  subject: string;
  cls: string;
  sequence: string;
  frames: string[];
}

/**
 * The attempts of issue 6's protocol: each sequence cut into consecutive, non-overlapping runs of `n` frames,
 * after removing the enrolment frames (the first ENROL_FRAMES of the subject's first live sequence); a shorter
 * remainder is not an attempt. Subjects without a live sequence cannot be enrolled: their sequences are not
 * attempts (counted apart as `unenrolled`).
 */
export function padAttempts(ds: PadDataset, n: number): { attempts: PadAttempt[]; enrol: Map<string, string[]>; unenrolled: string[] } {
  const enrol = new Map<string, string[]>();
  for (const s of ds.sequences) if (s.cls === BONA_FIDE && !enrol.has(s.subject)) enrol.set(s.subject, s.frames.slice(0, ENROL_FRAMES));
  const attempts: PadAttempt[] = [];
  for (const s of ds.sequences) {
    if (!enrol.has(s.subject)) continue;
    const skip = new Set(enrol.get(s.subject));
    const frames = s.frames.filter((f) => !skip.has(f));
    for (let i = 0; i + n <= frames.length; i += n) attempts.push({ subject: s.subject, cls: s.cls, sequence: s.name, frames: frames.slice(i, i + n) });
  }
  return { attempts, enrol, unenrolled: ds.subjects.filter((s) => !enrol.has(s)) };
}

/** Replay of a list of files as a camera: one frame per call, then null (the attempt's frames are used up). */
export function fileFrames(files: readonly string[]): (deadline: number) => Promise<Frame | null> {
  let i = 0;
  return async () => {
    const file = files[i];
    if (file === undefined) return null;
    const image = await decodeFile(file);
    return { image, timestampMs: performance.now(), sequence: i++ };
  };
}

/**
 * Cue values of every frame of every sequence, analysed the way verifyFace analyses them (same engine, quality
 * gate, liveness cues; PAD from `padFor(subject)`), for fitting the fusion. Null where no usable face.
 */
export async function sequenceCues(
  seqs: readonly PadSequence[],
  engine: FaceEngine,
  settings: VerifySettings,
  padFor: (subject: string) => Promise<PadScorer | null>,
  window: number,
  onProgress?: (done: number, total: number) => void,
): Promise<CueSequence[]> {
  const out: CueSequence[] = [];
  const total = seqs.reduce((a, s) => a + s.frames.length, 0);
  let done = 0;
  // Thresholds play no part here: the window size only matters for the IR majority.
  const params: FusionParams = { window, thresholds: {}, min_ear: 0, ir: { min_face_gain: 0, min_ratio: 0 } };
  for (const s of seqs) {
    const attempt = new LivenessChecker(await padFor(s.subject), params).attempt();
    const frames: (CueScores | null)[] = [];
    for (const file of s.frames) {
      const image = await decodeFile(file);
      const face = (await engine.detect(image))[0];
      if (!face || qualityProblem(face.quality, settings) || !face.landmarks || face.landmarks.length !== 68) {
        if (!face) attempt.breakTrack();
        frames.push(null);
      } else {
        frames.push((await attempt.observe(image, { box: face.box, landmarks: face.landmarks })).cues);
      }
      onProgress?.(++done, total);
    }
    out.push({ subject: s.subject, cls: s.cls, frames });
  }
  return out;
}

export interface AttemptResult {
  attempt: PadAttempt;
  result: string;
  reason: string;
  frames: number;
  livenessMs: number;
  livenessCpuMs: number;
  livenessFrames: number;
}

export interface AttemptFigures {
  live: number;
  live_rejected: number;
  attack: Record<string, number>;
  iapmr: Record<string, number>;
  /** Live attempts by outcome reason, to see why live attempts were rejected. */
  live_reasons: Record<string, number>;
  unenrolled_subjects: string[];
}

export function attemptFigures(results: readonly AttemptResult[], attackTypes: readonly string[], unenrolled: string[]): AttemptFigures {
  const live = results.filter((r) => r.attempt.cls === BONA_FIDE);
  const live_reasons: Record<string, number> = {};
  for (const r of live) live_reasons[`${r.result}/${r.reason}`] = (live_reasons[`${r.result}/${r.reason}`] ?? 0) + 1;
  const attack: Record<string, number> = {};
  const iapmr: Record<string, number> = {};
  for (const t of attackTypes) {
    const a = results.filter((r) => r.attempt.cls === t);
    attack[t] = a.length;
    iapmr[t] = a.length > 0 ? a.filter((r) => r.result === 'allow').length / a.length : NaN;
  }
  return {
    live: live.length,
    live_rejected: live.length > 0 ? live.filter((r) => r.result !== 'allow').length / live.length : NaN,
    attack,
    iapmr,
    live_reasons,
    unenrolled_subjects: unenrolled,
  };
}

export interface RunAttemptsInput {
  ds: PadDataset;
  window: number;
  engine: FaceEngine;
  settings: VerifySettings;
  targetFar: number;
  /** The PAD scorer never trained on `subject` (null: the fusion does not use PAD). */
  padFor: (subject: string) => Promise<PadScorer | null>;
  /** Fusion parameters fitted without `subject`. */
  fusionFor: (subject: string) => FusionParams;
  onAttempt?: (r: AttemptResult) => void;
}

/** Enrols every subject that has a live sequence and plays every attempt through verifyFace. */
export async function runAttempts(input: RunAttemptsInput): Promise<{ results: AttemptResult[]; unenrolled: string[] }> {
  const { ds, engine, settings } = input;
  const { attempts, enrol, unenrolled } = padAttempts(ds, input.window);
  const results: AttemptResult[] = [];
  for (const [subject, files] of enrol) {
    const templates = new Map<string, Float32Array[]>();
    for (const file of files) {
      const image = await decodeFile(file);
      const face = (await engine.detect(image))[0];
      if (!face) continue;
      for (const [id, v] of await engine.embed(image, face)) {
        const list = templates.get(id) ?? [];
        list.push(v);
        templates.set(id, list);
      }
    }
    const matcher = engine.matcher(templates, input.targetFar);
    if (!matcher) throw new Error(`subject ${subject}: no face found in its enrolment frames`);
    const liveness = new LivenessChecker(await input.padFor(subject), input.fusionFor(subject));
    for (const attempt of attempts.filter((a) => a.subject === subject)) {
      const run = await verifyFace({
        nextFrame: fileFrames(attempt.frames),
        engine,
        matcher,
        liveness,
        settings,
        deadline: Number.POSITIVE_INFINITY,
      });
      const r: AttemptResult = {
        attempt,
        result: run.outcome.result,
        reason: run.outcome.reason,
        frames: run.frames.length,
        livenessMs: run.liveness?.ms ?? 0,
        livenessCpuMs: run.liveness?.cpuMs ?? 0,
        livenessFrames: run.liveness?.frames ?? 0,
      };
      results.push(r);
      input.onAttempt?.(r);
    }
  }
  return { results, unenrolled };
}

/** Fusion parameters per held-out subject, each fitted on the other subjects' cue sequences only. */
export function losoFusion(
  seqs: readonly CueSequence[],
  subjects: readonly string[],
  opts: { window: number; percentile: number; base: Omit<FusionParams, 'thresholds' | 'window'> },
): Map<string, { params: FusionParams; fit: FusionFit }> {
  const out = new Map<string, { params: FusionParams; fit: FusionFit }>();
  for (const s of subjects) {
    const fit = fitFusion(
      seqs.filter((q) => q.subject !== s),
      { window: opts.window, percentile: opts.percentile },
    );
    out.set(s, { fit, params: { ...opts.base, window: fit.window, thresholds: fit.thresholds } });
  }
  return out;
}
