import { performance } from 'node:perf_hooks';
import { meanBrightness, type Frame } from '../camera/camera.js';
import type { EventCode } from '../protocol/index.js';
import type { CueScores, LivenessFailure, WindowSummary } from '../liveness/fusion.js';
import type { LivenessJudge, LivenessTrack } from '../liveness/judge.js';
import { AttemptJudge, type AttemptRuleKind } from '../match/attempt-rule.js';
import { qualityProblem, type FaceEngine, type QualityLimits, type QualityProblem, type UserMatcher } from './engine.js';

export interface VerifySettings extends QualityLimits {
  /** The attempt rule (src/match/attempt-rule.ts) and the frames it needs. */
  rule: AttemptRuleKind;
  rule_frames: number;
  /** Seconds with no face in any frame after which the answer is no-face at once (0: wait until the deadline). */
  face_wait: number;
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
  /** Clock in ms, the time base of `deadline` (default performance.now; tests pass a fake one). */
  now?: () => number;
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
 * One verification: frames → skip dark → detect → quality gate → embed → match → liveness, until the attempt
 * rule is satisfied by the frame scores so far and the current frame both matches and ends a live liveness window
 * (allow), or the deadline: `not-live` if the attempt matched but never looked live, `no-match` if a face reached
 * the matcher, else `no-face`. When no frame has shown a face for `face_wait` seconds the answer is no-face at
 * once, so the password prompt comes without waiting out the timeout; once a face was seen the whole timeout is
 * used. Shared by facegated, `facegate test` and `facegate eval-pad` so all three decide identically.
 */
export async function verifyFace(input: VerifyInput): Promise<VerifyRun> {
  const { engine, matcher, settings, deadline, signal } = input;
  const now = input.now ?? (() => performance.now());
  const faceWaitEnd = settings.face_wait > 0 ? now() + settings.face_wait * 1000 : Infinity;
  let faceSeen = false;
  const frames: FrameReport[] = [];
  const judge = new AttemptJudge({ kind: settings.rule, frames: settings.rule_frames }, matcher.threshold);
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
    if (!faceSeen && now() >= faceWaitEnd) break;
    const frame = await input.nextFrame(faceSeen ? deadline : Math.min(deadline, faceWaitEnd), signal);
    if (!frame || now() >= deadline) break;
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
      emit('no-face');
      done();
      continue;
    }
    // A face in view, even one the quality gate refuses: someone is there, so use the whole timeout.
    faceSeen = true;
    // The largest face is the person at the keyboard; others in view do not block them.
    const problem = qualityProblem(face.quality, settings);
    if (problem) {
      report.problem = problem;
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
    if (judge.push(score)) {
      // The attempt has matched; the face that is live now must also be the one that matches now, so a matching
      // photo cannot borrow the liveness of another face swapped in front of the camera.
      if (isLive && report.match) return finish({ result: 'allow', reason: 'match' });
      if (!isLive) matchedNotLive = true;
    }
    if (!report.match) emit('retry');
  }
  if (matchedNotLive) return finish({ result: 'deny', reason: 'not-live' });
  return finish(scored ? { result: 'deny', reason: 'no-match' } : { result: 'unavailable', reason: 'no-face' });
}
