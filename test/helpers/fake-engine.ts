// A stand-in face engine for daemon tests and benches that need no models: a frame's identity is its grey level.
import type { FaceEngine, FoundFace, UserMatcher } from '../../src/auth/engine.js';
import { meanBrightness } from '../../src/camera/camera.js';
import type { RawImage } from '../../src/vision/types.js';

export const MODEL = { id: 'fake', sha256: 'f'.repeat(64) };

/** Identity is the image's grey level: the embedding is a unit vector at an angle set by it. */
export function fakeEmbedding(level: number): Float32Array {
  const a = (level / 255) * (Math.PI / 2);
  return Float32Array.from([Math.cos(a), Math.sin(a)]);
}

export class FakeEngine implements FaceEngine {
  readonly models = [MODEL];
  detected = 0;
  /** While set, detection waits for it: the request holding the camera stays in its verification. */
  gate: Promise<void> | null = null;
  async detect(image: RawImage): Promise<FoundFace[]> {
    this.detected++;
    if (this.gate) await this.gate;
    const b = meanBrightness(image);
    if (b < 50) return [];
    return [
      { box: { x: 0, y: 0, width: image.width, height: image.height }, score: 1, quality: { faceSizePx: 60, sharpness: 100, brightness: b, yaw: 0, pitch: 0 } },
    ];
  }
  async embed(image: RawImage): Promise<ReadonlyMap<string, Float32Array>> {
    return new Map([[MODEL.id, fakeEmbedding(meanBrightness(image))]]);
  }
  matcher(templates: ReadonlyMap<string, readonly Float32Array[]>): UserMatcher | null {
    const t = templates.get(MODEL.id)?.[0];
    if (!t) return null;
    return { threshold: 0.99, score: (e) => t[0]! * e.get(MODEL.id)![0]! + t[1]! * e.get(MODEL.id)![1]! };
  }
  async close(): Promise<void> {}
}

/** A flat grey PGM image: one replay frame of identity `level`. */
export function pgm(level: number, w = 32, h = 32): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), Buffer.alloc(w * h, level)]);
}
