import { performance } from 'node:perf_hooks';
import { meanBrightness, type Frame } from '../camera/camera.js';
import type { EventCode } from '../protocol/index.js';
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
}

export type VerifyOutcome =
  | { result: 'allow'; reason: 'match' }
  | { result: 'deny'; reason: 'no-match' }
  | { result: 'unavailable'; reason: 'no-face' };

export interface VerifyRun {
  outcome: VerifyOutcome;
  frames: FrameReport[];
  /** Best score seen (undefined if no face reached the matcher). */
  bestScore?: number;
  threshold: number;
}

export interface VerifyInput {
  nextFrame(deadline: number, signal?: AbortSignal): Promise<Frame | null>;
  engine: FaceEngine;
  matcher: UserMatcher;
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
 * One verification: frames → skip dark → detect → quality gate → embed → match, until the attempt rule is
 * satisfied by the frame scores so far (allow), or the deadline (deny if a face reached the matcher, else
 * no-face). When no frame has shown a face for `face_wait` seconds the answer is no-face at once, so the
 * password prompt comes without waiting out the timeout; once a face was seen the whole timeout is used.
 * Shared by facegated and `facegate test` so both decide identically.
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
  let bestScore: number | undefined;
  let lastEvent: EventCode | undefined;
  const emit = (e: EventCode): void => {
    if (e !== lastEvent) input.onEvent?.(e);
    lastEvent = e;
  };
  const finish = (outcome: VerifyOutcome): VerifyRun => ({ outcome, frames, threshold: matcher.threshold, ...(bestScore !== undefined ? { bestScore } : {}) });

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
    done();
    if (judge.push(score)) return finish({ result: 'allow', reason: 'match' });
    if (!report.match) emit('retry');
  }
  return finish(scored ? { result: 'deny', reason: 'no-match' } : { result: 'unavailable', reason: 'no-face' });
}
