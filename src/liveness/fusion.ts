/**
 * The liveness decision over an attempt's frames: each cue is summarised over a sliding window of the most recent
 * analysed frames (median, robust to one bad frame) and must clear its own threshold; the attempt is live as soon
 * as one window clears them all. Each threshold is set on training subjects' live windows at a fixed percentile
 * (src/liveness/fusion-fit.ts), so every cue alone rejects only a small, known share of live windows — a rule
 * with one free parameter that carries over to subjects it was not fitted on, unlike learnt weights.
 */

/** Per-frame cue values (numbers only: this is what the daemon logs and `facegate test` prints). */
export interface CueScores {
  /** PAD classifier, 0..1, higher = live. */
  pad?: number;
  /** Eye aspect ratio (attention). */
  ear?: number;
  /** Landmark motion since the previous frame of the track, in inter-ocular distances. */
  motion?: number;
  /** Homography residual of that motion, in inter-ocular distances (parallax; a plane leaves only jitter). */
  residual?: number;
  /** Motion of a ring around the face over motion of the face (≈ 1 for a photo moved by hand, ≈ 0 for a head). */
  coherence?: number;
  /** Share of the ring's edge energy on one straight line (paper or device border). */
  edges?: number;
  /** IR only: emitter gain of the face and of the background (grey levels). */
  ir_face?: number;
  ir_background?: number;
}

/** The window summaries the thresholds apply to. */
export const FUSED_CUES = ['pad', 'stillness', 'coherence', 'parallax', 'edges'] as const;
export type FusedCue = (typeof FUSED_CUES)[number];

/** Direction of each summary: `min` = must be at least the threshold (higher is more live), `max` = at most. */
export const CUE_DIRECTION: Record<FusedCue, 'min' | 'max'> = {
  pad: 'min',
  // A seated user is steadier than a photo held in a hand: median landmark motion per frame pair.
  stillness: 'max',
  coherence: 'max',
  // Residual over motion: a head's landmarks leave parallax a homography cannot absorb.
  parallax: 'min',
  edges: 'max',
};

export interface FusionParams {
  /** Frames per window (the most recent analysed face frames of one face track). */
  window: number;
  /** Per fused cue: its threshold, or absent when the cue is not used. */
  thresholds: Partial<Record<FusedCue, number>>;
  /** Attention: median eye aspect ratio over the window must be at least this (eyes open). */
  min_ear: number;
  /** IR gate (grey IR frames only). */
  ir: { min_face_gain: number; min_ratio: number };
}

function median(v: number[]): number | undefined {
  if (v.length === 0) return undefined;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Parallax floor: below this much motion the residual is the landmark net's jitter, not geometry. */
const PARALLAX_MOTION_FLOOR = 0.02;

export type WindowSummary = Partial<Record<FusedCue | 'ear', number>>;

/** The window's summaries (absent when no frame of the window gave that cue). */
export function summarise(frames: readonly CueScores[]): WindowSummary {
  const pick = (f: (c: CueScores) => number | undefined): number | undefined =>
    median(frames.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x)));
  const out: WindowSummary = {};
  const set = (k: FusedCue | 'ear', v: number | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set(
    'pad',
    pick((c) => c.pad),
  );
  set(
    'ear',
    pick((c) => c.ear),
  );
  set(
    'stillness',
    pick((c) => c.motion),
  );
  set(
    'coherence',
    pick((c) => c.coherence),
  );
  set(
    'parallax',
    pick((c) => (c.residual !== undefined && c.motion !== undefined ? c.residual / (c.motion + PARALLAX_MOTION_FLOOR) : undefined)),
  );
  set(
    'edges',
    pick((c) => c.edges),
  );
  return out;
}

export type LivenessFailure = FusedCue | 'eyes-closed' | 'ir' | 'too-few-frames' | 'no-landmarks';

export interface WindowVerdict {
  live: boolean;
  /** Every gate the window failed (empty when live). */
  failed: LivenessFailure[];
}

/** One window against the thresholds; `ir` is the IR gate's answer for the window (undefined on RGB cameras). */
export function judgeWindow(frames: readonly CueScores[], p: FusionParams, ir?: boolean): WindowVerdict {
  const failed: LivenessFailure[] = [];
  if (frames.length < p.window) return { live: false, failed: ['too-few-frames'] };
  const s = summarise(frames);
  if (!(s.ear !== undefined && s.ear >= p.min_ear)) failed.push('eyes-closed');
  for (const cue of FUSED_CUES) {
    const t = p.thresholds[cue];
    if (t === undefined) continue;
    const v = s[cue];
    // A cue that is configured but could not be measured fails closed.
    const ok = v !== undefined && (CUE_DIRECTION[cue] === 'min' ? v >= t : v <= t);
    if (!ok) failed.push(cue);
  }
  if (ir === false) failed.push('ir');
  return { live: failed.length === 0, failed };
}
