/**
 * Runs a tfjs graph model with TensorFlow.js itself (CPU backend) from local model.json/.bin bytes: the
 * reference our ONNX conversions are checked against. Dev-only (tests and benches); tfjs is a dev dependency.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import type { GraphModel } from '@tensorflow/tfjs-converter';

export { tf };

let ready: Promise<void> | undefined;

async function cpu(): Promise<void> {
  ready ??= (async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return ready;
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** Loads a graph model from the bytes of its model.json and a resolver for the weight files it names. */
export async function loadReference(modelJson: Uint8Array | string, readFile: (path: string) => Uint8Array): Promise<GraphModel> {
  await cpu();
  const doc = JSON.parse(typeof modelJson === 'string' ? modelJson : new TextDecoder().decode(modelJson)) as {
    modelTopology: object;
    weightsManifest: ManifestGroup[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: object;
    userDefinedMetadata?: Record<string, object>;
  };
  const parts = doc.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(p)));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.length;
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: doc.modelTopology,
      weightSpecs: doc.weightsManifest.flatMap((g) => g.weights),
      weightData: weightData.buffer,
      ...(doc.format ? { format: doc.format } : {}),
      ...(doc.generatedBy ? { generatedBy: doc.generatedBy } : {}),
      ...(doc.convertedBy ? { convertedBy: doc.convertedBy } : {}),
      ...(doc.signature ? { signature: doc.signature } : {}),
      ...(doc.userDefinedMetadata ? { userDefinedMetadata: doc.userDefinedMetadata } : {}),
    }),
  };
  return loadGraphModel(handler);
}

/** Runs the model on one NHWC float input and returns each requested output tensor's values. */
export async function runReference(model: GraphModel, input: Float32Array, shape: number[], outputs: string[]): Promise<Float32Array[]> {
  const x = tf.tensor(input, shape, 'float32');
  try {
    const res = model.execute(x, outputs);
    const list = Array.isArray(res) ? res : [res];
    const data = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(list);
    return data;
  } finally {
    x.dispose();
  }
}
