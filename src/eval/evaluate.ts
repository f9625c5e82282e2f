import { l2normalize } from '../match/similarity.js';
import type { AggregationOptions } from '../match/templates.js';
import type { Dataset } from './dataset.js';
import type { EmbedOutcome, EmbeddingCache } from './embeddings.js';
import { attemptScores, type AttemptSets, type AttemptSummary } from './attempts.js';
import { lfwImagePath, type LfwPairs } from './lfw-pairs.js';
import { rocCurve, type RocPoint } from './metrics.js';
import {
  lfwAccuracy,
  lfwScores,
  pairsScores,
  summarisePairs,
  summariseUnlock,
  unlockScores,
  type PairsSummary,
  type ScoreSets,
  type UnlockSummary,
  type Vectors,
} from './protocols.js';
import { Progress } from './progress.js';

export const FUSION = 'fusion';

export interface EvalSettings {
  /** An embedder id, or "fusion" of `fusionModels`. */
  model: string;
  aggregation: AggregationOptions;
  gallery: number;
  /** The two embedders fused, and the weight of the first. */
  fusionModels: readonly [string, string];
  fusionWeight: number;
  /** Datasets of recordings (`SEQUENCE-FRAME.ext`): enrol from one recording, probe with the others. */
  sequences?: boolean;
  /** Attempt protocol window sizes W to score (single models only); empty or absent: no attempt protocol. */
  attemptFrames?: readonly number[];
}

export interface EvalReport {
  dataset: string;
  model: string;
  settings: Record<string, unknown>;
  images: number;
  faces_found: number;
  /** Images where no face was found: failures to match, listed by path relative to the dataset. */
  no_face: string[];
  /** Files that could not be read or decoded: skipped and listed. */
  undecodable: { file: string; error: string }[];
  pairs?: PairsSummary & {
    /** The pairs judged at the shipped threshold (calibration table at the configured target FAR). */
    shipped?: ShippedPoint;
  };
  unlock?: UnlockSummary & {
    /** The attempt protocol at the shipped settings (default W, shipped rule and threshold). */
    attempt?: AttemptSummary;
    /** The same at other W (5 and 10), keyed by W. */
    attempt_frames?: Record<string, AttemptSummary>;
  };
  /**
   * The unlock attempts judged with the shipped calibration table's thresholds (when one exists for this model
   * and these settings): what a user of this dataset would actually see.
   */
  calibrated?: {
    table: string;
    at_far: Record<string, { threshold: number; frr: number; far: number; false_rejects: number; false_accepts: number }>;
  };
  lfw?: {
    accuracy: number;
    std: number;
    folds: number[];
    thresholds: number[];
    pairs: number;
    /** Images named in the pairs file that do not exist: their pairs count as "different". */
    missing: string[];
  };
}

export interface ShippedPoint {
  threshold: number;
  far: number;
  frr: number;
  false_accepts: number;
  false_rejects: number;
}

export interface EvalOutput {
  report: EvalReport;
  /** Raw scores per protocol, for plots and calibration; attempts keyed by W. */
  scores: { pairs?: ScoreSets; unlock?: ScoreSets; attempts?: Map<number, AttemptSets> };
}

async function embedAll(paths: readonly string[], cache: EmbeddingCache, label: string): Promise<EmbedOutcome[]> {
  const bar = new Progress(label, paths.length);
  const out: EmbedOutcome[] = [];
  // Sequential on purpose: the pipeline already uses every core inside ONNX Runtime.
  for (let i = 0; i < paths.length; i++) {
    out.push(await cache.get(paths[i]!));
    bar.tick(i + 1);
  }
  bar.end();
  return out;
}

/** Unit-length vectors of one model, null where the image has no face or lacks that model's embedding. */
export function modelVectors(outcomes: readonly EmbedOutcome[], model: string): (Float32Array | null)[] {
  return outcomes.map((o) => {
    if (o.kind !== 'face') return null;
    const v = o.vectors[model];
    if (!v) throw new Error(`the pipeline gave no "${model}" embedding`);
    return l2normalize(v);
  });
}

function impostorStats(s: ScoreSets): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (const v of s.impostor) {
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    sq += v * v;
  }
  const mean = n ? sum / n : 0;
  const std = n > 1 ? Math.sqrt(Math.max(1e-12, (sq - n * mean * mean) / (n - 1))) : 1;
  return { mean, std };
}

/**
 * Score-level fusion: each model's scores are z-normalised by its impostor distribution on this protocol, then
 * combined as w·z₁ + (1−w)·z₂. The statistics come from the evaluated impostors themselves, so this is an
 * optimistic estimate of what fusion could do (see docs/accuracy.md for what it measured).
 */
export function fuseScores(a: ScoreSets, b: ScoreSets, w: number): ScoreSets {
  const sa = impostorStats(a);
  const sb = impostorStats(b);
  const f = (x: Float64Array, y: Float64Array): Float64Array => {
    if (x.length !== y.length) throw new Error('fusion needs the same attempts from both models');
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      out[i] = w * ((x[i]! - sa.mean) / sa.std) + (1 - w) * ((y[i]! - sb.mean) / sb.std);
    }
    return out;
  };
  return { genuine: f(a.genuine, b.genuine), impostor: f(a.impostor, b.impostor) };
}

function scoreWith(settings: EvalSettings, outcomes: readonly EmbedOutcome[], protocol: (vec: Vectors) => ScoreSets): ScoreSets {
  if (settings.model !== FUSION) return protocol(modelVectors(outcomes, settings.model));
  const [m1, m2] = settings.fusionModels;
  return fuseScores(protocol(modelVectors(outcomes, m1)), protocol(modelVectors(outcomes, m2)), settings.fusionWeight);
}

function settingsRecord(s: EvalSettings, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    aggregation: s.aggregation.aggregation,
    ...(s.aggregation.aggregation === 'topk' ? { k: s.aggregation.k ?? 2 } : {}),
    gallery: s.gallery,
    ...(s.model === FUSION ? { fusion_models: s.fusionModels, fusion_weight: s.fusionWeight } : {}),
    ...extra,
  };
}

function tally(ds: { rel: string }[], outcomes: readonly EmbedOutcome[]): Pick<EvalReport, 'images' | 'faces_found' | 'no_face' | 'undecodable'> {
  const noFace: string[] = [];
  const bad: { file: string; error: string }[] = [];
  let faces = 0;
  outcomes.forEach((o, i) => {
    const rel = ds[i]!.rel;
    if (o.kind === 'face') faces++;
    else if (o.kind === 'noface') noFace.push(rel);
    else bad.push({ file: rel, error: o.error });
  });
  // Undecodable files are skipped, not counted as images.
  return { images: outcomes.length - bad.length, faces_found: faces, no_face: noFace, undecodable: bad };
}

/** The pairs and unlock protocols over a whole <identity>/<image> dataset. */
export async function evaluateDataset(
  ds: Dataset,
  cache: EmbeddingCache,
  settings: EvalSettings,
  extraSettings: Record<string, unknown> = {},
): Promise<EvalOutput> {
  const outcomes = await embedAll(
    ds.images.map((i) => i.path),
    cache,
    'embedding',
  );
  const t = tally([...ds.images], outcomes);
  // Undecodable files are skipped: drop them from the dataset before scoring.
  const keep = outcomes.map((o) => o.kind !== 'undecodable');
  const { dataset, kept } = dropImages(ds, keep, outcomes);
  const pairs = scoreWith(settings, kept, (v) => pairsScores(dataset, v));
  const unlockOpts = { ...settings.aggregation, gallery: settings.gallery, sequences: settings.sequences ?? false };
  const unlock = scoreWith(settings, kept, (v) => unlockScores(dataset, v, unlockOpts));
  // Fused scores are normalised per protocol; the attempt protocol is measured for single models only.
  let attempts: Map<number, AttemptSets> | undefined;
  if (settings.model !== FUSION && settings.attemptFrames?.length) {
    const vec = modelVectors(kept, settings.model);
    attempts = new Map(settings.attemptFrames.map((w) => [w, attemptScores(dataset, vec, { ...unlockOpts, frames: w })]));
  }
  const report: EvalReport = {
    dataset: ds.root,
    model: settings.model,
    settings: settingsRecord(settings, extraSettings),
    ...t,
    pairs: summarisePairs(pairs),
    unlock: summariseUnlock(unlock),
  };
  return { report, scores: { pairs, unlock, ...(attempts ? { attempts } : {}) } };
}

function dropImages(ds: Dataset, keep: readonly boolean[], outcomes: readonly EmbedOutcome[]): { dataset: Dataset; kept: EmbedOutcome[] } {
  if (keep.every(Boolean)) return { dataset: ds, kept: [...outcomes] };
  const remap = new Map<number, number>();
  const images = ds.images.filter((_, i) => keep[i]);
  const kept = outcomes.filter((_, i) => keep[i]);
  let j = 0;
  ds.images.forEach((_, i) => {
    if (keep[i]) remap.set(i, j++);
  });
  const identities = ds.identities.map((id) => ({ name: id.name, images: id.images.filter((i) => keep[i]).map((i) => remap.get(i)!) }));
  return { dataset: { root: ds.root, identities, images }, kept };
}

/** LFW's 10-fold protocol: only the images the pairs file names are embedded and only its pairs are scored. */
export async function evaluateLfw(
  dir: string,
  pairs: LfwPairs,
  cache: EmbeddingCache,
  settings: EvalSettings,
  extraSettings: Record<string, unknown> = {},
  exists: (p: string) => boolean,
): Promise<EvalOutput> {
  const wanted = new Map<string, { rel: string; path: string }>();
  for (const p of pairs.pairs) {
    for (const side of [p.a, p.b]) {
      const path = lfwImagePath(dir, side.name, side.n);
      if (!wanted.has(path)) wanted.set(path, { rel: lfwImagePath('', side.name, side.n), path });
    }
  }
  const all = [...wanted.values()];
  const missing = all.filter((w) => !exists(w.path)).map((w) => w.rel);
  const present = all.filter((w) => exists(w.path));
  const outcomes = await embedAll(
    present.map((w) => w.path),
    cache,
    'embedding',
  );
  const t = tally(present, outcomes);
  const index = new Map<string, number>();
  present.forEach((w, i) => {
    index.set(w.path, i);
  });
  const scoresFor = (model: string): Float64Array => {
    const vec = modelVectors(outcomes, model);
    return lfwScores(pairs, (name, n) => {
      const i = index.get(lfwImagePath(dir, name, n));
      return i === undefined ? null : (vec[i] ?? null);
    });
  };
  let scores: Float64Array;
  if (settings.model === FUSION) {
    // LFW has no separate impostor pool: z-normalise each model by its mismatched pairs.
    const a = scoresFor(settings.fusionModels[0]);
    const b = scoresFor(settings.fusionModels[1]);
    const split = (s: Float64Array): ScoreSets => ({
      genuine: s.filter((_, i) => pairs.pairs[i]!.same),
      impostor: s.filter((_, i) => !pairs.pairs[i]!.same),
    });
    const fused = fuseScores({ genuine: a, impostor: split(a).impostor }, { genuine: b, impostor: split(b).impostor }, settings.fusionWeight);
    scores = fused.genuine;
  } else {
    scores = scoresFor(settings.model);
  }
  const r = lfwAccuracy(pairs, scores);
  const report: EvalReport = {
    dataset: dir,
    model: settings.model,
    settings: settingsRecord(settings, extraSettings),
    ...t,
    lfw: { ...r, pairs: pairs.pairs.length, missing },
  };
  return { report, scores: {} };
}

export function rocSeries(out: EvalOutput): { label: string; points: RocPoint[] }[] {
  const series: { label: string; points: RocPoint[] }[] = [];
  const { pairs, unlock } = out.scores;
  if (pairs?.genuine.length && pairs.impostor.length) series.push({ label: 'pairs', points: rocCurve(pairs.genuine, pairs.impostor) });
  if (unlock?.genuine.length && unlock.impostor.length) series.push({ label: 'unlock', points: rocCurve(unlock.genuine, unlock.impostor) });
  return series;
}
