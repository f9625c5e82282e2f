/**
 * The speed bar facegate is measured against: face-api.js's own default pipeline (SsdMobilenetv1 detector,
 * 68-point landmarks, FaceRecognitionNet) on tfjs with the wasm backend, run from @vladmandic/face-api's node-wasm
 * build with the weights in its model/ folder. Development only: tfjs is a dev dependency, loaded lazily.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RawImage } from '../vision/types.js';

interface TfTensor {
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor3d(values: Int32Array | Float32Array, shape: [number, number, number], dtype: 'int32' | 'float32'): TfTensor;
}
interface Net {
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}
interface DetectTask {
  withFaceLandmarks(): { withFaceDescriptor(): Promise<{ descriptor: Float32Array } | undefined> };
}
interface FaceApi {
  tf: Tf;
  nets: {
    ssdMobilenetv1: Net;
    faceLandmark68Net: Net;
    faceRecognitionNet: Net & { computeFaceDescriptor(x: TfTensor): Promise<Float32Array | Float32Array[]> };
  };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectSingleFace(input: TfTensor, options: unknown): DetectTask;
}

function rgbTensor(tf: Tf, img: RawImage, dtype: 'int32' | 'float32'): TfTensor {
  const n = img.width * img.height;
  const rgb = dtype === 'int32' ? new Int32Array(n * 3) : new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * img.channels + (img.channels === 3 ? c : 0)]!;
  }
  return tf.tensor3d(rgb, [img.height, img.width, 3], dtype);
}

export class FaceApiPipelineReference {
  private constructor(private readonly api: FaceApi) {}

  static async load(): Promise<FaceApiPipelineReference> {
    const require = createRequire(import.meta.url);
    let api: FaceApi;
    try {
      api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    } catch (err) {
      throw new Error(`the face-api.js reference needs the dev dependencies (@tensorflow/tfjs*): ${(err as Error).message}`);
    }
    if (!(await api.tf.setBackend('wasm'))) throw new Error('tfjs wasm backend is not available');
    await api.tf.ready();
    const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    await api.nets.ssdMobilenetv1.loadFromDisk(dir);
    await api.nets.faceLandmark68Net.loadFromDisk(dir);
    await api.nets.faceRecognitionNet.loadFromDisk(dir);
    return new FaceApiPipelineReference(api);
  }

  get backend(): string {
    return this.api.tf.getBackend();
  }

  /** The whole default pipeline on one decoded image; true if it found a face. */
  async frame(img: RawImage): Promise<boolean> {
    const t = rgbTensor(this.api.tf, img, 'int32');
    try {
      const r = await this.api
        .detectSingleFace(t, new this.api.SsdMobilenetv1Options({ minConfidence: 0.5 }))
        .withFaceLandmarks()
        .withFaceDescriptor();
      return r !== undefined;
    } finally {
      t.dispose();
    }
  }

  /** FaceRecognitionNet alone on a 150×150 chip. */
  async descriptor(chip: RawImage): Promise<void> {
    const t = rgbTensor(this.api.tf, chip, 'float32');
    try {
      await this.api.nets.faceRecognitionNet.computeFaceDescriptor(t);
    } finally {
      t.dispose();
    }
  }

  dispose(): void {
    this.api.nets.ssdMobilenetv1.dispose();
    this.api.nets.faceLandmark68Net.dispose();
    this.api.nets.faceRecognitionNet.dispose();
  }
}
