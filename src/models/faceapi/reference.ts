/**
 * face-api.js itself (its own code on tfjs, wasm or cpu backend), used as the reference that our ONNX
 * conversions are checked and benchmarked against. Development only: tfjs is a dev dependency and is loaded
 * lazily, so production code never pulls it in.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadSources } from '../build/fetch.js';
import { FACEAPI_PKG } from '../sources.js';
import { PACKAGE_ROOT } from '../../paths.js';
import type { Box, Point, RawImage } from '../../vision/types.js';

// The slice of the tfjs and face-api APIs we use, typed here so nothing untyped leaks out of this module.
interface TfTensor {
  readonly shape: number[];
  dispose(): void;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor3d(values: Float32Array, shape: [number, number, number], dtype: 'float32'): TfTensor;
  slice3d(x: TfTensor, begin: [number, number, number], size: [number, number, number]): TfTensor;
  engine(): { startScope(): void; endScope(): void };
}
interface FaceApiPoint {
  x: number;
  y: number;
}
interface FaceApiNet {
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}
interface FaceApiModule {
  tf: Tf;
  nets: {
    faceRecognitionNet: FaceApiNet & {
      computeFaceDescriptor(x: TfTensor): Promise<Float32Array | Float32Array[]>;
      forward(x: TfTensor): Promise<TfTensor>;
    };
    faceLandmark68Net: FaceApiNet & {
      detectLandmarks(x: TfTensor): Promise<{ positions: FaceApiPoint[] } | { positions: FaceApiPoint[] }[]>;
      runNet(x: unknown): TfTensor;
    };
  };
}

export type ReferenceBackend = 'wasm' | 'cpu';

function imageTensor(tf: Tf, img: RawImage): TfTensor {
  const n = img.width * img.height;
  const rgb = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * img.channels + (img.channels === 3 ? c : 0)]!;
  }
  return tf.tensor3d(rgb, [img.height, img.width, 3], 'float32');
}

export class FaceApiReference {
  private constructor(private readonly api: FaceApiModule) {}

  /** Loads face-api (node-wasm build) with both nets from the pinned, digest-checked package files. */
  static async load(backend: ReferenceBackend = 'wasm'): Promise<FaceApiReference> {
    const require = createRequire(import.meta.url);
    // Verifies the files face-api will read are the pinned ones.
    loadSources(FACEAPI_PKG, path.join(PACKAGE_ROOT, '.cache', 'packages'));
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
    if (backend === 'cpu') require('@tensorflow/tfjs-backend-cpu');
    if (!(await api.tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} is not available`);
    await api.tf.ready();
    const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    await api.nets.faceRecognitionNet.loadFromDisk(dir);
    await api.nets.faceLandmark68Net.loadFromDisk(dir);
    return new FaceApiReference(api);
  }

  get backend(): string {
    return this.api.tf.getBackend();
  }

  /** face-api's computeFaceDescriptor on a 150×150 chip (grey is replicated to RGB). */
  async descriptor(chip: RawImage): Promise<Float32Array> {
    const t = imageTensor(this.api.tf, chip);
    try {
      const d = await this.api.nets.faceRecognitionNet.computeFaceDescriptor(t);
      if (Array.isArray(d)) throw new Error('unexpected batch result');
      return d;
    } finally {
      t.dispose();
    }
  }

  /**
   * face-api's landmarks for a face box as its pipeline computes them: crop the box from the image tensor
   * (extractFaceTensors; integer boxes inside the image), run FaceLandmark68Net (which pads to a square and
   * resizes to 112), shift back by the box origin. With `raw`, also the 136 network outputs.
   */
  async landmarks(image: RawImage, box: Box, raw = true): Promise<{ points: Point[]; raw?: Float32Array }> {
    const { tf } = this.api;
    const { x, y, width, height } = box;
    if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || x + width > image.width || y + height > image.height) {
      throw new Error('reference landmarks need an integer box inside the image');
    }
    const img = imageTensor(tf, image);
    const crop = tf.slice3d(img, [y, x, 0], [height, width, 3]);
    try {
      const net = this.api.nets.faceLandmark68Net;
      const res = await net.detectLandmarks(crop);
      const lm = Array.isArray(res) ? res[0] : res;
      if (!lm) throw new Error('no landmarks');
      const points = lm.positions.map((p) => ({ x: p.x + x, y: p.y + y }));
      if (!raw) return { points };
      // runNet allocates outside any tidy() of ours; a scope frees what it leaves behind.
      tf.engine().startScope();
      try {
        const { toNetInput } = this.api as unknown as { toNetInput(x: TfTensor): Promise<unknown> };
        const out = net.runNet(await toNetInput(crop));
        return { points, raw: Float32Array.from(await out.data()) };
      } finally {
        tf.engine().endScope();
      }
    } finally {
      crop.dispose();
      img.dispose();
    }
  }

  dispose(): void {
    this.api.nets.faceRecognitionNet.dispose();
    this.api.nets.faceLandmark68Net.dispose();
  }
}
