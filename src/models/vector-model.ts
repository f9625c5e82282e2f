import { SerialSession } from './serial-session.js';
import { LoadedModel, type SessionOptions } from './session.js';

/**
 * A small model over feature vectors: one float input [rows, inputDim] → one float output [rows, outputDim].
 * Built from bytes so callers that check a model against their own calibration (trained/pad.onnx) or build one in
 * memory (cross-validation folds) still run it through ONNX Runtime with facegate's session settings, without
 * importing onnxruntime themselves.
 */
export class VectorModel {
  private constructor(
    private readonly runner: SerialSession,
    readonly sha256: string,
    readonly inputName: string,
    readonly outputName: string,
    readonly inputDim: number,
    readonly outputDim: number,
  ) {}

  static async fromBytes(
    bytes: Uint8Array,
    spec: { id: string; input: string; output: string; inputDim: number; outputDim: number },
    opts: SessionOptions = {},
  ): Promise<VectorModel> {
    const model = await LoadedModel.fromBytes(spec.id, bytes, opts);
    if (!model.inputNames.includes(spec.input) || !model.outputNames.includes(spec.output)) {
      await model.release();
      throw new Error(`model ${spec.id} has no input "${spec.input}" or output "${spec.output}"`);
    }
    const runner = new SerialSession(model, `${spec.id} model`);
    return new VectorModel(runner, model.sha256, spec.input, spec.output, spec.inputDim, spec.outputDim);
  }

  /** Runs `rows` vectors laid out row-major in `input`; returns rows × outputDim values. */
  run(input: Float32Array, rows = 1): Promise<Float32Array> {
    if (!Number.isInteger(rows) || rows < 1 || input.length !== rows * this.inputDim) {
      return Promise.reject(new Error(`${this.runner.model.id}: input holds ${input.length} values, expected ${rows}×${this.inputDim}`));
    }
    return this.runner.serial(() => {
      // The tensor wraps a private copy: the caller may reuse its buffer while ORT still reads this one.
      const t = { data: Float32Array.from(input), dims: [rows, this.inputDim] };
      return this.runner.output({ [this.inputName]: t }, this.outputName, rows * this.outputDim);
    });
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
