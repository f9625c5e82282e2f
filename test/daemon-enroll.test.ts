// Enrolment frame gating with a stand-in engine: only lit frames with exactly one good face become templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Frame } from '../src/camera/camera.js';
import { collectEnrollment } from '../src/auth/enroll.js';
import type { FaceEngine, FoundFace } from '../src/auth/engine.js';
import type { RawImage } from '../src/vision/types.js';

const MODELS = [
  { id: 'a', sha256: '1'.repeat(64) },
  { id: 'b', sha256: '2'.repeat(64) },
];

/** Frame kinds: D dark, 0 no face, 2 two faces, S small face, G good. */
function engine(): FaceEngine {
  const face = (size: number): FoundFace => ({
    box: { x: 0, y: 0, width: 10, height: 10 },
    score: 1,
    quality: { faceSizePx: size, sharpness: 100, brightness: 120, yaw: 0, pitch: 0 },
  });
  return {
    models: MODELS,
    async detect(img: RawImage) {
      const k = String.fromCharCode(img.data[1]!);
      return k === '0' ? [] : k === '2' ? [face(60), face(50)] : k === 'S' ? [face(5)] : [face(60)];
    },
    async embed() {
      return new Map(MODELS.map((m) => [m.id, Float32Array.from([1, 0])]));
    },
    matcher: () => null,
    close: async () => {},
  };
}

function frames(kinds: string): (deadline: number) => Promise<Frame | null> {
  let i = 0;
  return async () => {
    const k = kinds[i];
    if (k === undefined) return null;
    const data = new Uint8Array(16).fill(k === 'D' ? 0 : 200);
    data[1] = k.charCodeAt(0);
    return { image: { width: 4, height: 4, channels: 1, data }, timestampMs: performance.now(), sequence: i++ };
  };
}

const limits = { min_face_px: 24, min_sharpness: 5, min_brightness: 30, max_brightness: 235, max_yaw: 35, max_pitch: 35, dark_threshold: 25 };

test('collects only good frames, one template per model each', async () => {
  const progress: number[] = [];
  const r = await collectEnrollment({
    nextFrame: frames('DG0G2SGG'),
    engine: engine(),
    limits,
    frames: 3,
    deadline: performance.now() + 60_000,
    onProgress: (p) => progress.push(p.good),
  });
  assert.equal(r.good, 3);
  assert.equal(r.seen, 7, 'stops once it has enough');
  assert.deepEqual(
    r.templates.map((t) => t.id),
    ['a', 'b', 'a', 'b', 'a', 'b'],
  );
  assert.deepEqual(
    { dark: r.skipped.dark, none: r.skipped['no-face'], multi: r.skipped['multiple-faces'], far: r.skipped['too-far'] },
    { dark: 1, none: 1, multi: 1, far: 1 },
  );
  assert.equal(progress.at(-1), 3);
});

test('returns what it has when the frames run out', async () => {
  const r = await collectEnrollment({ nextFrame: frames('G22'), engine: engine(), limits, frames: 5, deadline: performance.now() + 60_000 });
  assert.equal(r.good, 1);
  assert.equal(r.skipped['multiple-faces'], 2);
});
