import type { Box, Point, RawImage } from '../vision/types.js';
import { straightEdgeShare } from './edges.js';
import { eyeAspectRatio } from './eyes.js';
import { judgeWindow, summarise, type CueScores, type FusionParams, type LivenessFailure, type WindowSummary } from './fusion.js';
import { irGatePasses, irLighting } from './ir.js';
import { regionMotion } from './motion.js';
import { planarity } from './planarity.js';
import { smallGrey, type SmallGrey } from './small-grey.js';

/** The face the cues look at: FaceResult's box and 68 iBUG landmarks in source pixels. */
export interface LivenessFace {
  box: Box;
  /** Without the 68 landmarks no cue can be measured and the frame is never live. */
  landmarks?: readonly Point[];
}

/** The single-frame PAD classifier (src/liveness/pad-model.ts PadModel, or a cross-validation fold of it). */
export interface PadScorer {
  score(input: { image: RawImage; box: Box; landmarks: readonly Point[] }): Promise<number>;
}

export interface FrameLiveness {
  cues: CueScores;
  /** The verdict of the window ending at this frame. */
  live: boolean;
  failed: LivenessFailure[];
}

function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** What verifyFace needs of the liveness stage of one attempt (LivenessAttempt; tests may stand in for it). */
export interface LivenessTrack {
  observeDark(image: RawImage): void;
  breakTrack(): void;
  observe(image: RawImage, face: LivenessFace): Promise<FrameLiveness>;
  readonly last: FrameLiveness | null;
  readonly frames: number;
  readonly ms: number;
  readonly cpuMs: number;
  windowSummary(): WindowSummary;
}

/** Makes the liveness stage of each verification attempt. */
export interface LivenessJudge {
  attempt(): LivenessTrack;
}

/**
 * A face track must overlap itself from one analysed frame to the next by at least this much; below it the
 * window starts again, so one face cannot lend its liveness to another swapped in front of the camera.
 */
const TRACK_MIN_IOU = 0.3;

/**
 * The liveness state of one verification attempt: cue values per analysed frame of the current face track and
 * the verdict of the latest window. Make one per attempt with `LivenessChecker.attempt()`.
 */
export class LivenessAttempt implements LivenessTrack {
  private track: CueScores[] = [];
  private irTrack: boolean[] = [];
  private prev: { box: Box; landmarks: readonly Point[]; grey: SmallGrey } | null = null;
  private dark: RawImage | null = null;
  /** Total milliseconds spent in the cues (the cost of the liveness stage), wall and process CPU. */
  ms = 0;
  cpuMs = 0;
  frames = 0;
  /** The latest frame's result (null before any). */
  last: FrameLiveness | null = null;

  constructor(
    private readonly pad: PadScorer | null,
    readonly params: FusionParams,
    private readonly irGate: boolean,
  ) {}

  /** A dark frame of an alternating IR emitter: the reference the next lit frame's gain is measured against. */
  observeDark(image: RawImage): void {
    if (image.channels === 1) this.dark = image;
  }

  /** A frame without a usable face breaks the track. */
  breakTrack(): void {
    this.track = [];
    this.irTrack = [];
    this.prev = null;
  }

  async observe(image: RawImage, face: LivenessFace): Promise<FrameLiveness> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    this.frames++;
    const landmarks = face.landmarks;
    if (landmarks?.length !== 68) {
      this.breakTrack();
      this.last = { cues: {}, live: false, failed: ['no-landmarks'] };
      return this.last;
    }
    const cues: CueScores = {};
    const grey = smallGrey(image);
    if (this.prev && iou(this.prev.box, face.box) < TRACK_MIN_IOU) this.breakTrack();
    const ear = eyeAspectRatio(landmarks);
    if (ear !== null) cues.ear = ear;
    const edges = straightEdgeShare(grey, face.box);
    if (edges !== null) cues.edges = edges;
    if (this.prev) {
      const pl = planarity(this.prev.landmarks, landmarks);
      if (pl) {
        cues.motion = pl.motion;
        cues.residual = pl.residual;
      }
      const m = regionMotion(this.prev.grey, grey, face.box);
      if (m) cues.coherence = m.coherence;
    }
    if (this.pad) cues.pad = await this.pad.score({ image, box: face.box, landmarks });
    let ir: boolean | undefined;
    if (this.irGate && image.channels === 1) {
      const l = irLighting(image, this.dark, face.box);
      if (l) {
        cues.ir_face = l.faceGain;
        cues.ir_background = l.backgroundGain;
        this.irTrack.push(irGatePasses(l, this.params.ir));
      }
      // The majority of the window's lit frames must pass: one reflection must not open the gate.
      const recent = this.irTrack.slice(-this.params.window);
      ir = recent.length > 0 && recent.filter(Boolean).length * 2 > recent.length;
    }
    this.track.push(cues);
    if (this.track.length > this.params.window) this.track.shift();
    this.prev = { box: face.box, landmarks, grey };
    const v = judgeWindow(this.track, this.params, ir);
    this.ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    this.cpuMs += (c.user + c.system) / 1000;
    this.last = { cues, live: v.live, failed: v.failed };
    return this.last;
  }

  /** The current window's cue summaries (numbers only). */
  windowSummary(): WindowSummary {
    return summarise(this.track);
  }
}

/** Makes one LivenessAttempt per verification with the shipped (or a fold's) PAD scorer and fusion parameters. */
export class LivenessChecker implements LivenessJudge {
  constructor(
    readonly pad: PadScorer | null,
    readonly params: FusionParams,
    readonly irGate = true,
  ) {
    if (params.thresholds.pad !== undefined && !pad) throw new Error('liveness: the fusion uses the PAD score but no PAD model is loaded');
  }

  attempt(): LivenessAttempt {
    return new LivenessAttempt(this.pad, this.params, this.irGate);
  }
}
