import { probeEmbedding } from '../embed/probe.js';
import { DEFAULT_ATTEMPT_RULE, type AttemptRule } from '../match/attempt-rule.js';
import { attemptSettingsFor, scoringFor, thresholdFor } from '../match/calibration.js';
import { l2normalize } from '../match/similarity.js';
import { TemplateSet } from '../match/templates.js';
import type { ModelRef } from '../store/store.js';
import { FacePipeline, type FaceResult, type LandmarkerId } from '../vision/pipeline.js';
import type { RawImage } from '../vision/types.js';
import type { FaceEngine, FoundFace, UserMatcher } from './engine.js';

export interface VisionEngineOptions {
  /** Embedder ids (config verify.embedders); empty or absent: ['face-api'] (DEFAULT_EMBEDDERS). The first decides. */
  embedders?: readonly string[];
  intraOpThreads?: number;
  /** Target FAR checked against the calibration at load, so a missing table fails at start, not per request. */
  targetFar?: number;
  /** The configured attempt rule, checked at load against the rule the thresholds were calibrated for. */
  rule?: AttemptRule;
}

/** The embedder facegate decides with when the config names none (the one the shipped calibration covers). */
const DEFAULT_EMBEDDERS = ['face-api'];

interface VisionFace extends FoundFace {
  result: FaceResult;
}

/**
 * The FaceEngine over the real pipeline (src/vision) and the calibrated matcher (src/match). Detection, alignment
 * and quality run on every frame; embedders run only for the face that passed the quality gates.
 */
export class VisionEngine implements FaceEngine {
  readonly models: readonly ModelRef[];

  private constructor(
    private readonly pipeline: FacePipeline,
    private readonly flip: boolean,
  ) {
    this.models = pipeline.embedders.map((e) => ({ id: e.id, sha256: e.modelSha256 }));
  }

  static async load(opts: VisionEngineOptions = {}): Promise<VisionEngine> {
    const embedders = opts.embedders && opts.embedders.length > 0 ? [...opts.embedders] : DEFAULT_EMBEDDERS;
    // The thresholds hold only for probes made the way the calibration measured them: same landmarks, same
    // mirror-image averaging (calibration/<model>.json "scoring").
    const scoring = scoringFor(embedders[0]!) as Record<string, unknown>;
    const landmarker = typeof scoring.landmarker === 'string' ? (scoring.landmarker as LandmarkerId) : undefined;
    const flip = scoring.flip_tta === true;
    const pipeline = await FacePipeline.load({
      embedders,
      ...(landmarker ? { landmarker } : {}),
      ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
    });
    try {
      if (pipeline.embedders.length === 0) throw new Error('no embedder loaded');
      const engine = new VisionEngine(pipeline, flip);
      const primary = engine.models[0]!;
      attemptSettingsFor(primary.id, opts.targetFar ?? 1e-4, opts.rule ?? DEFAULT_ATTEMPT_RULE, { modelSha256: primary.sha256 });
      await engine.warmUp();
      return engine;
    } catch (err) {
      await pipeline.close();
      throw err;
    }
  }

  /**
   * The first inference of an ONNX Runtime session pays for allocations and kernel selection (hundreds of ms);
   * pay it at start so the first PAM request is as fast as the rest.
   */
  private async warmUp(): Promise<void> {
    const blank = { width: 640, height: 480, channels: 1 as const, data: new Uint8Array(640 * 480).fill(128) };
    await this.pipeline.analyze(blank, { embed: false });
    // A blank frame has no face, so the landmarker would otherwise first run on the first real request.
    await this.pipeline.landmarker?.detect(blank, { x: 220, y: 140, width: 200, height: 200 });
    for (const e of this.pipeline.embedders) {
      const n = e.chip.size;
      await e.embed({ width: n, height: n, channels: 3, data: new Uint8Array(n * n * 3).fill(128) });
    }
  }

  async detect(image: RawImage): Promise<FoundFace[]> {
    const res = await this.pipeline.analyze(image, { embed: false });
    return res.faces
      .map((f): VisionFace => ({ box: f.box, score: f.score, quality: f.quality, ...(f.landmarks.length === 68 ? { landmarks: f.landmarks } : {}), result: f }))
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  async embed(_image: RawImage, face: FoundFace): Promise<ReadonlyMap<string, Float32Array>> {
    const { result } = face as VisionFace;
    if (!result) throw new Error('face was not found by this engine');
    const out = new Map<string, Float32Array>();
    for (const e of this.pipeline.embedders) {
      const chip = result.chips[e.id];
      if (!chip) throw new Error(`no chip for embedder ${e.id}`);
      // The same function eval and calibration use, so the probe is made the way the thresholds were measured.
      out.set(e.id, await probeEmbedding(e, chip, this.flip));
    }
    return out;
  }

  matcher(templates: ReadonlyMap<string, readonly Float32Array[]>, targetFar: number): UserMatcher | null {
    const primary = this.models[0]!;
    const stored = templates.get(primary.id);
    if (!stored || stored.length === 0) return null;
    const set = new TemplateSet(stored.map((t) => l2normalize(t)));
    const scoring = scoringFor(primary.id);
    const threshold = thresholdFor(primary.id, targetFar, { modelSha256: primary.sha256 });
    return {
      threshold,
      score: (emb) => {
        const probe = emb.get(primary.id);
        if (!probe) throw new Error(`no ${primary.id} embedding`);
        return set.score(probe, scoring);
      },
    };
  }

  async close(): Promise<void> {
    await this.pipeline.close();
  }
}
