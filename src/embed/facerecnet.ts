/**
 * face-api's FaceRecognitionNet on ONNX Runtime: the default embedder. Takes a 150×150 chip cut with dlib's
 * convention (25 % padding) by the aligner and returns the raw 128-d descriptor (norm ≈ 1.4; not normalised).
 */
import { loadModel, type FloatTensor, type LoadedModel, type SessionOptions } from '../models/session.js';
import { SerialSession } from '../models/serial-session.js';
import { RECOGNITION_DIM, RECOGNITION_INPUT_SIZE } from '../models/faceapi/recognition.js';
import type { RawImage } from '../vision/types.js';
import type { ChipSpec, Embedder } from './embedder.js';

export const FACEAPI_MODEL_ID = 'faceapi-recognition';

/**
 * Writes an 8-bit RGB or grey chip into a planar float [3, size, size] slice of `dst` at `offset`, the model's
 * input layout (grey is replicated to all three channels). Kept apart from the runtime so it can be tested
 * and reused.
 */
export function chipToPlanar(chip: RawImage, size: number, dst: Float32Array, offset = 0): void {
  if (chip.width !== size || chip.height !== size) {
    throw new Error(`face chip must be ${size}×${size}, got ${chip.width}×${chip.height}`);
  }
  const n = size * size;
  if (chip.data.length !== n * chip.channels) {
    throw new Error(`face chip data holds ${chip.data.length} bytes, expected ${n * chip.channels}`);
  }
  if (dst.length < offset + 3 * n) throw new Error('input buffer too small');
  const src = chip.data;
  if (chip.channels === 3) {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      dst[offset + i] = src[j]!;
      dst[offset + n + i] = src[j + 1]!;
      dst[offset + 2 * n + i] = src[j + 2]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      dst[offset + i] = v;
      dst[offset + n + i] = v;
      dst[offset + 2 * n + i] = v;
    }
  }
}

export class FaceRecNetEmbedder implements Embedder {
  readonly id = 'face-api';
  readonly dim = RECOGNITION_DIM;
  readonly chip: ChipSpec = { size: RECOGNITION_INPUT_SIZE, padding: 0.25 };
  readonly modelSha256: string;
  private readonly input: Float32Array;
  private readonly tensor: FloatTensor;
  /** Serialises calls: they share one input buffer. */
  private readonly runner: SerialSession;

  private constructor(model: LoadedModel) {
    this.modelSha256 = model.sha256;
    this.runner = new SerialSession(model, 'face-api embedder');
    const s = RECOGNITION_INPUT_SIZE;
    this.input = new Float32Array(3 * s * s);
    this.tensor = { data: this.input, dims: [1, 3, s, s] };
  }

  static async load(opts: SessionOptions = {}): Promise<FaceRecNetEmbedder> {
    return new FaceRecNetEmbedder(await loadModel(FACEAPI_MODEL_ID, opts));
  }

  private runBatch(tensor: FloatTensor, n: number): Promise<Float32Array> {
    return this.runner.output({ input: tensor }, 'descriptor', n * RECOGNITION_DIM);
  }

  embed(chip: RawImage): Promise<Float32Array> {
    return this.runner.serial(async () => {
      chipToPlanar(chip, RECOGNITION_INPUT_SIZE, this.input);
      // ORT hands back a fresh array per run, so returning it does not alias the next call's output.
      return this.runBatch(this.tensor, 1);
    });
  }

  /** Embeds several chips in one run; returns one descriptor per chip (views into one buffer). */
  embedBatch(chips: readonly RawImage[]): Promise<Float32Array[]> {
    if (chips.length === 0) return Promise.resolve([]);
    if (chips.length === 1) return this.embed(chips[0]!).then((d) => [d]);
    return this.runner.serial(async () => {
      const s = RECOGNITION_INPUT_SIZE;
      const per = 3 * s * s;
      const buf = new Float32Array(per * chips.length);
      chips.forEach((c, i) => {
        chipToPlanar(c, s, buf, i * per);
      });
      const all = await this.runBatch({ data: buf, dims: [chips.length, 3, s, s] }, chips.length);
      return chips.map((_, i) => all.subarray(i * RECOGNITION_DIM, (i + 1) * RECOGNITION_DIM));
    });
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
