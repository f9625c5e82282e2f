import type { ChipSpec, Embedder } from '../embed/embedder.js';
import { probeEmbedding } from '../embed/probe.js';
import { chipToImage, DLIB_BLAZEFACE_TEMPLATE, warpAffine, type Affine, type LandmarkKind } from './align.js';
import { BlazeFace, type DetectorModel } from './blazeface.js';
import { decodeImage, rawFrame, toGrey } from './decode.js';
import type { Landmarker } from './landmarker.js';
import { assessQuality } from './quality.js';
import { loadEmbedder, loadLandmarker } from './registry.js';
import type { Box, Point, Quality, RawImage } from './types.js';

/** `blazeface`: align on the detector's eye/nose/mouth keypoints (no extra model). */
export type LandmarkerId = 'blazeface' | '68' | 'facemesh';

export interface PipelineOptions {
  /** Embedder ids, e.g. ['face-api'] or ['face-api', 'faceres']; the first is the default one. */
  embedders?: string[];
  landmarker?: LandmarkerId;
  /** ONNX Runtime intra-op threads for every model; undefined lets ORT choose. */
  intraOpThreads?: number;
  detector?: DetectorModel;
  /** Minimum detector score (default 0.5). */
  minScore?: number;
  /** Embed the chip and its mirror image and average the two (src/embed/probe.ts). */
  flipTTA?: boolean;
  /**
   * The detector's box is scaled about its centre by this factor (and moved down by `landmarkBoxShift` of its
   * height) before the landmarker sees it, because landmark nets expect the box of the detector they were
   * trained with.
   */
  landmarkBoxScale?: number;
  landmarkBoxShift?: number;
}

export interface AnalyzeOptions {
  /**
   * The image is already a tight face crop (e.g. ORL): the whole image is the face box and is never rejected.
   * The detector still runs with a low bar, only to locate eyes/nose/mouth and a landmark-net box inside the crop
   * (face-api's 68-point net on the detector box: ORL EER 0.46 % against 1.00 % on the whole crop).
   */
  cropped?: boolean;
  /** At most this many faces, best first (default: all). */
  maxFaces?: number;
  /** Skip embedding (detection, landmarks, alignment and quality only), e.g. for live feedback. */
  embed?: boolean;
}

/** Milliseconds per stage. */
export interface StageTimes {
  decode?: number;
  detect: number;
  landmarks: number;
  align: number;
  /** Per embedder id, including flip TTA when enabled. */
  embed: Record<string, number>;
  total: number;
}

export interface StageTimings extends StageTimes {
  /**
   * Process CPU time (all threads) per stage. On a machine busy with other work wall time inflates; CPU time
   * still shows what the pipeline itself costs.
   */
  cpu: StageTimes;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall and CPU time since the last lap. */
class Lap {
  private wall = performance.now();
  private cpu = cpuMs();
  lap(): [number, number] {
    const w = performance.now();
    const c = cpuMs();
    const r: [number, number] = [w - this.wall, c - this.cpu];
    this.wall = w;
    this.cpu = c;
    return r;
  }
}

export interface FaceResult {
  box: Box;
  /** Detector score; 1 for `cropped` input. */
  score: number;
  /** BlazeFace's 6 keypoints (empty for cropped input when the detector saw nothing). */
  keypoints: Point[];
  /** The landmarks the face was aligned on, in source pixels (68 iBUG points, or eyes/nose/mouth). */
  landmarks: Point[];
  landmarkKind: LandmarkKind;
  quality: Quality;
  /** Aligned RGB chip per embedder id. */
  chips: Record<string, RawImage>;
  /** Per embedder id: the unit-length probe embedding (src/embed/probe.ts), the daemon's too. */
  embeddings: Record<string, Float32Array>;
}

export interface AnalyzeResult {
  width: number;
  height: number;
  faces: FaceResult[];
  timings: StageTimings;
}

/** Default chip for quality measurement when no embedder is loaded: dlib's 150 px, 25 % padding. */
const QUALITY_CHIP: ChipSpec = { size: 150, padding: 0.25 };

function chipKey(spec: ChipSpec): string {
  return `${spec.size}/${spec.padding}`;
}

/**
 * The face pipeline: detect (BlazeFace) → landmarks → similarity alignment to each embedder's chip → quality →
 * embeddings. Load once, then call `analyze` per image or camera frame.
 */
export class FacePipeline {
  private constructor(
    readonly detector: BlazeFace,
    readonly landmarker: Landmarker | undefined,
    readonly embedders: readonly Embedder[],
    readonly options: Readonly<PipelineOptions>,
  ) {}

  static async load(opts: PipelineOptions = {}): Promise<FacePipeline> {
    const threads = opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {};
    const ids = opts.embedders ?? ['face-api'];
    if (new Set(ids).size !== ids.length) throw new Error('embedders: duplicate id');
    const detector = await BlazeFace.load({ model: opts.detector ?? 'front', ...threads, ...(opts.minScore !== undefined ? { minScore: opts.minScore } : {}) });
    const embedders: Embedder[] = [];
    let landmarker: Landmarker | undefined;
    try {
      const lm = opts.landmarker ?? 'blazeface';
      if (lm !== 'blazeface') landmarker = await loadLandmarker(lm, threads);
      for (const id of ids) embedders.push(await loadEmbedder(id, threads));
    } catch (err) {
      await Promise.allSettled([detector.close(), landmarker?.close(), ...embedders.map((e) => e.close())]);
      throw err;
    }
    return new FacePipeline(detector, landmarker, embedders, { ...opts, embedders: ids });
  }

  /** Embedder ids in use; the first is the default model. */
  get embedderIds(): string[] {
    return this.embedders.map((e) => e.id);
  }

  /** Decodes an encoded image (JPEG, PNG, PGM, …) and analyses it; the decode time is reported too. */
  async analyzeEncoded(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const clock = new Lap();
    const img = await decodeImage(bytes);
    const [decode, decodeCpu] = clock.lap();
    const res = await this.analyze(img, opts);
    res.timings.decode = decode;
    res.timings.total += decode;
    res.timings.cpu.decode = decodeCpu;
    res.timings.cpu.total += decodeCpu;
    return res;
  }

  async analyze(image: RawImage, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    // Frames come from cameras and files: check the buffer really holds the stated pixels before indexing it.
    rawFrame(image.data, image.width, image.height, image.channels);
    const start = new Lap();
    const clock = new Lap();
    const timings: StageTimings = { detect: 0, landmarks: 0, align: 0, embed: {}, total: 0, cpu: { detect: 0, landmarks: 0, align: 0, embed: {}, total: 0 } };
    const cpu = timings.cpu;
    for (const e of this.embedders) timings.embed[e.id] = cpu.embed[e.id] = 0;
    const add = (stage: 'detect' | 'landmarks' | 'align'): void => {
      const [w, c] = clock.lap();
      timings[stage] += w;
      cpu[stage] += c;
    };
    const maxFaces = opts.maxFaces ?? Infinity;

    // 1. Detection (or the whole crop as the face).
    let found: { box: Box; score: number; keypoints: Point[]; lmBox?: Box }[];
    if (opts.cropped) {
      const box = { x: 0, y: 0, width: image.width, height: image.height };
      // The crop is the face, but alignment still needs eyes/nose/mouth (or a face box a landmark net was trained
      // on): ask the detector with a low bar; failing that, assume a centred frontal face filling the crop.
      const [d] = await this.detector.detect(image, { maxFaces: 1, minScore: 0.05 });
      const keypoints = d ? d.keypoints : DLIB_BLAZEFACE_TEMPLATE.map((p) => ({ x: p.x * image.width, y: p.y * image.height }));
      found = maxFaces >= 1 ? [{ box, score: 1, keypoints, ...(d ? { lmBox: d.box } : {}) }] : [];
    } else {
      found = await this.detector.detect(image, { maxFaces });
    }
    add('detect');

    const faces: FaceResult[] = [];
    for (const f of found) {
      // 2. Landmarks.
      let landmarks: Point[];
      let kind: LandmarkKind;
      if (this.landmarker) {
        const pts = await this.landmarker.detect(image, f.lmBox ? this.landmarkBox(f.lmBox) : opts.cropped ? f.box : this.landmarkBox(f.box));
        if (pts.length === 68) {
          landmarks = pts;
          kind = 'ibug68';
        } else {
          throw new Error(`landmarker ${this.landmarker.id} returned ${pts.length} points`);
        }
      } else {
        landmarks = f.keypoints;
        kind = 'blazeface6';
      }
      add('landmarks');

      // 3. Alignment: one chip per distinct chip layout.
      const byLayout = new Map<string, RawImage>();
      const chips: Record<string, RawImage> = {};
      const specs = this.embedders.length ? this.embedders.map((e) => [e.id, e.chip] as const) : [['quality', QUALITY_CHIP] as const];
      let firstChip: RawImage | undefined;
      for (const [id, spec] of specs) {
        const key = chipKey(spec);
        let chip = byLayout.get(key);
        if (!chip) {
          const m: Affine = chipToImage(kind, landmarks, { size: spec.size, padding: spec.padding });
          chip = warpAffine(image, m, spec.size, 3);
          byLayout.set(key, chip);
        }
        firstChip ??= chip;
        chips[id] = chip;
      }
      const grey = firstChip!;
      const quality = assessQuality(kind, landmarks, toGrey(grey));
      add('align');

      // 4. Embeddings.
      const embeddings: Record<string, Float32Array> = {};
      if (opts.embed !== false) {
        for (const e of this.embedders) {
          embeddings[e.id] = await probeEmbedding(e, chips[e.id]!, this.options.flipTTA === true);
          const [w, c] = clock.lap();
          timings.embed[e.id]! += w;
          cpu.embed[e.id]! += c;
        }
      }
      faces.push({ box: f.box, score: f.score, keypoints: f.keypoints, landmarks, landmarkKind: kind, quality, chips, embeddings });
    }
    [timings.total, cpu.total] = start.lap();
    return { width: image.width, height: image.height, faces, timings };
  }

  private landmarkBox(b: Box): Box {
    const k = this.options.landmarkBoxScale ?? 1;
    const shift = (this.options.landmarkBoxShift ?? 0) * b.height;
    const w = b.width * k;
    const h = b.height * k;
    return { x: b.x + (b.width - w) / 2, y: b.y + (b.height - h) / 2 + shift, width: w, height: h };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.detector.close(), this.landmarker?.close(), ...this.embedders.map((e) => e.close())]);
  }
}
