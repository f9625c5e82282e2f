import type { RawImage } from '../vision/types.js';

/**
 * How an embedder wants its face chip cut: the aligner maps the landmarks onto a canonical template, scaled so
 * the template fills `size` minus `padding` (dlib's convention: padding is a fraction of the template's extent
 * added on every side).
 */
export interface ChipSpec {
  readonly size: number;
  readonly padding: number;
}

/** A face-embedding network. Loads once; `embed` is the hot path. */
export interface Embedder {
  /** Stable id recorded with every template, e.g. "face-api" or "faceres". */
  readonly id: string;
  readonly dim: number;
  /** SHA-256 of the ONNX file in use; templates from another digest must be refused. */
  readonly modelSha256: string;
  readonly chip: ChipSpec;
  /** Raw (not L2-normalised) embedding of an aligned RGB chip of chip.size × chip.size. */
  embed(chip: RawImage): Promise<Float32Array>;
  /**
   * Optional: several chips in one inference run (e.g. a chip and its mirror for flip test-time augmentation);
   * same results as `embed` one by one, usually less CPU per chip.
   */
  embedBatch?(chips: readonly RawImage[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
