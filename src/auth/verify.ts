import { performance } from 'node:perf_hooks';
import { meanBrightness, type Frame } from '../camera/camera.js';
import type { EventCode } from '../protocol/index.js';
import type { CueScores, LivenessFailure, WindowSummary } from '../liveness/fusion.js';
import type { LivenessJudge, LivenessTrack } from '../liveness/judge.js';
import { qualityProblem, type FaceEngine, type QualityLimits, type QualityProblem, type UserMatcher } from './engine.js';

export interface VerifySettings extends QualityLimits {
  frames_needed: number;
  dark_threshold: number;
}

/** What happened to one frame; `facegate test` prints these, the daemon logs a summary. */
export interface FrameReport {
  sequence: number;
  /** Milliseconds spent on this frame (detect + gates + embed + match). */
  ms: number;
  brightness: number;
  dark: boolean;
  faces: number;
  problem?: QualityProblem;
  score?: number;
  match?: boolean;
  /** This frame's cue values and the verdict of the liveness window ending at it. */
  liveness?: { cues: CueScores; live: boolean; failed: LivenessFailure[] };
}

export type VerifyOutcome =
  | { result: 'allow'; reason: 'match' }
  | { result: 'deny'; reason: 'no-match' }
  | { result: 'deny'; reason: 'not-live' }
  | { result: 'unavailable'; reason: 'no-face' };

export interface VerifyRun {
  outcome: VerifyOutcome;
  frames: FrameReport[];
  /** Best score seen (undefined if no face reached the matcher). */
  bestScore?: number;
  threshold: number;
  /** The liveness stage of the attempt (absent when liveness is off). */
  liveness?: LivenessSummary;
}

export interface LivenessSummary {
  live: boolean;
  /** Frames the liveness stage analysed and the milliseconds it spent on them. */
  frames: number;
  ms: number;
  /** Process CPU milliseconds of the liveness stage (all threads; comparable on a busy machine). */
  cpuMs: number;
  /** Gates the last window failed (empty when live). */
  failed: LivenessFailure[];
  /** The last window's cue summaries: numbers only, what the daemon logs. */
  window: WindowSummary;
}

export interface VerifyInput {
  nextFrame(deadline: number, signal?: AbortSignal): Promise<Frame | null>;
  engine: FaceEngine;
  matcher: UserMatcher;
  /**
   * Liveness judge (src/liveness); null only when the configuration turns liveness off. Required so that no
   * caller can forget it: a matching face is allowed only once the attempt is also judged live.
   */
  liveness: LivenessJudge | null;
  settings: VerifySettings;
  /** performance.now() ms; no new frame is started after it. */
  deadline: number;
  signal?: AbortSignal;
  onEvent?: (e: EventCode) => void;
  onFrame?: (r: FrameReport) => void;
}

/** Consecutive dark frames before telling the user: IR emitters leave every other frame dark by design. */
const DARK_FRAMES_BEFORE_EVENT = 3;

const EVENT_OF: Record<QualityProblem, EventCode> = {
  'too-far': 'too-far',
  'too-dark': 'too-dark',
  'too-bright': 'retry',
  blurry: 'blurry',
  pose: 'retry',
};

/**
 * One verification: frames → skip dark → detect → quality gate → embed → match → liveness, until the match rule
 * is satisfied on a frame whose liveness window is live (allow), or the deadline: `not-live` if the face matched
 * but the attempt never looked live, `no-match` if a face reached the matcher, else `no-face`.
 * Shared by facegated, `facegate test` and `facegate eval-pad` so all three decide identically.
 */
export async function verifyFace(input: VerifyInput): Promise<VerifyRun> {
  const { engine, matcher, settings, deadline, signal } = input;
  const frames: FrameReport[] = [];
  let consecutive = 0;
  let darkRun = 0;
  let scored = false;
  let matchedNotLive = false;
  const live: LivenessTrack | null = input.liveness?.attempt() ?? null;

  let bestScore: number | undefined;
  let lastEvent: EventCode | undefined;
  const emit = (e: EventCode): void => {
    if (e !== lastEvent) input.onEvent?.(e);
    lastEvent = e;
  };
  const finish = (outcome: VerifyOutcome): VerifyRun => ({
    outcome,
    frames,
    threshold: matcher.threshold,
    ...(bestScore !== undefined ? { bestScore } : {}),
    ...(live
      ? {
          liveness: {
            live: live.last?.live ?? false,
            frames: live.frames,
            ms: live.ms,
            cpuMs: live.cpuMs,
            failed: live.last?.failed ?? ['too-few-frames'],
            window: live.windowSummary(),
          },
        }
      : {}),
  });

  for (;;) {
    if (signal?.aborted) break;
    const frame = await input.nextFrame(deadline, signal);
    if (!frame || performance.now() >= deadline) break;
    const t0 = performance.now();
    const brightness = meanBrightness(frame.image);
    const report: FrameReport = { sequence: frame.sequence, ms: 0, brightness, dark: brightness < settings.dark_threshold, faces: 0 };
    const done = (): void => {
      report.ms = performance.now() - t0;
      frames.push(report);
      input.onFrame?.(report);
    };
    if (report.dark) {
      live?.observeDark(frame.image);
      darkRun++;
      if (darkRun >= DARK_FRAMES_BEFORE_EVENT) emit('too-dark');
      done();
      continue;
    }
    darkRun = 0;
    const faces = await engine.detect(frame.image);
    report.faces = faces.length;
    const face = faces[0];
    if (!face) {
      live?.breakTrack();
      consecutive = 0;
      emit('no-face');
      done();
      continue;
    }
    // The largest face is the person at the keyboard; others in view do not block them.
    const problem = qualityProblem(face.quality, settings);
    if (problem) {
      report.problem = problem;
      consecutive = 0;
      emit(EVENT_OF[problem]);
      done();
      continue;
    }
    const embeddings = await engine.embed(frame.image, face);
    const score = matcher.score(embeddings);
    scored = true;
    report.score = score;
    report.match = score > matcher.threshold;
    if (bestScore === undefined || score > bestScore) bestScore = score;
    // Liveness of the same face, every analysed frame (its window needs consecutive frames, matching or not).
    let isLive = true;
    if (live) {
      const fl = await live.observe(frame.image, face);
      report.liveness = fl;
      isLive = fl.live;
    }
    done();
    if (report.match) {
      consecutive++;
      if (consecutive >= settings.frames_needed) {
        if (isLive) return finish({ result: 'allow', reason: 'match' });
        matchedNotLive = true;
      }
    } else {
      consecutive = 0;
      emit('retry');
    }
  }
  if (matchedNotLive) return finish({ result: 'deny', reason: 'not-live' });
  return finish(scored ? { result: 'deny', reason: 'no-match' } : { result: 'unavailable', reason: 'no-face' });
}
