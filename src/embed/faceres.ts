/**
 * Human's `faceres` (HSE FaceRes, a MobileNet trained by A. Savchenko on VGGFace2) on ONNX Runtime: a 1024-d
 * descriptor, the `global_pooling/Mean` output (the one Human keeps as `descriptor`; the other two outputs
 * are its age and gender heads).
 *
 * Input convention, from Human 3.3.6 src/face/faceres.ts + facemesh.ts: the face tensor is the BlazeFace box
 * enlarged 1.4× (config.face.detector.scale) and squared, unrotated, scaled to 0..1; faceres resizes it to
 * 224×224 and multiplies by 255. So the network sees RGB 0..255, no mean/std normalisation.
 *
 * Chip: Human's crop is about padding 0.2 in our dlib-template convention, but the network (trained on
 * VGGFace2's loose crops) does better with more context. Measured with 68-point alignment, cosine, all pairs
 * (`node dist/bench/faceres-chip.js`, docs/tfjs-models.md): ORL (--cropped) EER 2.52 / 0.61 / 0.50 / 0.53 %
 * and lfw-dev EER 6.88 / 5.43 / 5.51 / 5.63 % at padding 0.2 / 0.4 / 0.45 / 0.5. 0.45 sits in the middle of
 * the plateau both datasets share, rather than on either one's optimum.
 */
import { loadModel, type FloatTensor, type LoadedModel, type SessionOptions } from '../models/session.js';
import { SerialSession } from '../models/serial-session.js';
import type { RawImage } from '../vision/types.js';
import type { ChipSpec, Embedder } from './embedder.js';

export const FACERES_MODEL_ID = 'human-faceres';
export const FACERES_INPUT = 'input_1';
export const FACERES_DESCRIPTOR = 'global_pooling/Mean';
export const FACERES_SIZE = 224;
export const FACERES_DIM = 1024;
export const FACERES_CHIP: ChipSpec = { size: FACERES_SIZE, padding: 0.45 };

/**
 * Writes an 8-bit RGB or grey chip as NHWC float 0..255 into `dst` at `offset` (grey replicated to RGB: IR
 * cameras give grey and the network wants three channels).
 */
export function chipToNhwc255(chip: RawImage, size: number, dst: Float32Array, offset = 0): void {
  if (chip.width !== size || chip.height !== size) {
    throw new Error(`face chip must be ${size}×${size}, got ${chip.width}×${chip.height}`);
  }
  const n = size * size;
  if (chip.channels !== 1 && chip.channels !== 3) throw new Error(`face chip must have 1 or 3 channels, got ${String(chip.channels)}`);
  if (chip.data.length !== n * chip.channels) {
    throw new Error(`face chip data holds ${chip.data.length} bytes, expected ${n * chip.channels}`);
  }
  if (dst.length < offset + 3 * n) throw new Error('input buffer too small');
  const src = chip.data;
  if (chip.channels === 3) {
    for (let i = 0; i < 3 * n; i++) dst[offset + i] = src[i] as number;
  } else {
    for (let i = 0, j = offset; i < n; i++, j += 3) {
      const v = src[i] as number;
      dst[j] = v;
      dst[j + 1] = v;
      dst[j + 2] = v;
    }
  }
}

export class FaceresEmbedder implements Embedder {
  readonly id = 'faceres';
  readonly dim = FACERES_DIM;
  readonly chip: ChipSpec = FACERES_CHIP;
  readonly modelSha256: string;
  private readonly input: Float32Array;
  private readonly tensor: FloatTensor;
  /** Serialises calls: they share one input buffer. */
  private readonly runner: SerialSession;

  private constructor(model: LoadedModel) {
    this.modelSha256 = model.sha256;
    this.runner = new SerialSession(model, 'faceres embedder');
    const s = FACERES_SIZE;
    this.input = new Float32Array(s * s * 3);
    this.tensor = { data: this.input, dims: [1, s, s, 3] };
  }

  static async load(opts: SessionOptions = {}): Promise<FaceresEmbedder> {
    const model = await loadModel(FACERES_MODEL_ID, opts);
    if (!model.inputNames.includes(FACERES_INPUT) || !model.outputNames.includes(FACERES_DESCRIPTOR)) {
      await model.release();
      throw new Error(`${FACERES_MODEL_ID}.onnx lacks input ${FACERES_INPUT} or output ${FACERES_DESCRIPTOR}; rebuild models`);
    }
    return new FaceresEmbedder(model);
  }

  private run(tensor: FloatTensor, n: number): Promise<Float32Array> {
    // Fetch only the descriptor; the age/gender heads are not needed.
    return this.runner.output({ [FACERES_INPUT]: tensor }, FACERES_DESCRIPTOR, n * FACERES_DIM);
  }

  /** Raw 1024-d descriptor of a 224×224 RGB or grey chip (ORT returns a fresh array per run). */
  embed(chip: RawImage): Promise<Float32Array> {
    return this.runner.serial(async () => {
      chipToNhwc255(chip, FACERES_SIZE, this.input);
      return this.run(this.tensor, 1);
    });
  }

  /** Embeds several chips in one run; one descriptor per chip (views into one buffer). */
  embedBatch(chips: readonly RawImage[]): Promise<Float32Array[]> {
    if (chips.length === 0) return Promise.resolve([]);
    if (chips.length === 1) return this.embed(chips[0] as RawImage).then((d) => [d]);
    return this.runner.serial(async () => {
      const s = FACERES_SIZE;
      const per = s * s * 3;
      const buf = new Float32Array(per * chips.length);
      chips.forEach((c, i) => {
        chipToNhwc255(c, s, buf, i * per);
      });
      const all = await this.run({ data: buf, dims: [chips.length, s, s, 3] }, chips.length);
      return chips.map((_, i) => all.subarray(i * FACERES_DIM, (i + 1) * FACERES_DIM));
    });
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
