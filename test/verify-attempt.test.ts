// verifyFace with a fake engine, a scripted camera and a fake clock (one frame = 33 ms): the attempt rule and the
// quick fallback when no face is in view. No real time is measured or asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyFace, type VerifySettings } from '../src/auth/verify.js';
import type { FaceEngine, FoundFace, UserMatcher } from '../src/auth/engine.js';
import type { Frame } from '../src/camera/camera.js';
import type { RawImage } from '../src/vision/types.js';
import { FakeLiveness } from './helpers/fake-liveness.js';

const FRAME_MS = 33;

/** A frame's grey level says what it shows: 0 dark, 100 empty scene, 150+ a face whose score is (level−100)/100. */
function frameOf(level: number, sequence: number): Frame {
  return { image: { width: 4, height: 4, channels: 1, data: new Uint8Array(16).fill(level) }, timestampMs: 0, sequence };
}

class ScriptedEngine implements FaceEngine {
  readonly models = [{ id: 'fake', sha256: 'f'.repeat(64) }];
  embedded = 0;
  async detect(image: RawImage): Promise<FoundFace[]> {
    const level = image.data[0]!;
    if (level < 150) return [];
    return [{ box: { x: 0, y: 0, width: 4, height: 4 }, score: 1, quality: { faceSizePx: 60, sharpness: 100, brightness: 120, yaw: 0, pitch: 0 } }];
  }
  async embed(image: RawImage): Promise<ReadonlyMap<string, Float32Array>> {
    this.embedded++;
    return new Map([['fake', Float32Array.of((image.data[0]! - 100) / 100)]]);
  }
  matcher(): UserMatcher {
    return { threshold: 0.9, score: (e) => e.get('fake')![0]! };
  }
  async close(): Promise<void> {}
}

const SETTINGS: VerifySettings = {
  rule: 'best-mean',
  rule_frames: 2,
  face_wait: 1,
  dark_threshold: 25,
  min_face_px: 24,
  min_sharpness: 5,
  min_brightness: 30,
  max_brightness: 235,
  max_yaw: 35,
  max_pitch: 35,
};

/**
 * Plays `levels` (then repeats the last one) on a fake clock that advances one frame period per frame, with a
 * 4 s deadline. Returns the outcome, the frames looked at and the fake time the answer came at.
 */
async function run(
  levels: number[],
  settings: Partial<VerifySettings> = {},
): Promise<{ result: string; reason: string; frames: number; atMs: number; embedded: number }> {
  let clock = 0;
  let i = 0;
  const engine = new ScriptedEngine();
  const r = await verifyFace({
    nextFrame: async (deadline) => {
      if (clock + FRAME_MS > deadline) {
        clock = Math.max(clock, deadline);
        return null;
      }
      clock += FRAME_MS;
      const level = levels[Math.min(i, levels.length - 1)]!;
      return frameOf(level, i++);
    },
    engine,
    matcher: engine.matcher(),
    // Liveness stays on; the stand-in judges every frame here live (test/liveness-*.test.ts test the real cues).
    liveness: new FakeLiveness(),
    settings: { ...SETTINGS, ...settings },
    deadline: 4000,
    now: () => clock,
  });
  return { ...r.outcome, frames: r.frames.length, atMs: clock, embedded: engine.embedded };
}

test('no face in the first second: no-face at once, not at the deadline', async () => {
  const r = await run([100]);
  assert.deepEqual([r.result, r.reason], ['unavailable', 'no-face']);
  assert.ok(r.atMs <= 1000 + FRAME_MS, `answered at ${r.atMs} ms of fake time`);
  assert.equal(r.frames, Math.floor(1000 / FRAME_MS));
  // Dark frames (IR emitter off, covered camera) are no face either.
  assert.equal((await run([0])).reason, 'no-face');
  assert.ok((await run([0])).atMs <= 1000 + FRAME_MS);
});

test('face_wait = 0 waits out the whole timeout', async () => {
  const r = await run([100], { face_wait: 0 });
  assert.deepEqual([r.result, r.reason], ['unavailable', 'no-face']);
  assert.ok(r.atMs > 3900, `answered at ${r.atMs}`);
});

test('a face seen in the first second keeps the whole timeout: an impostor is denied at the deadline', async () => {
  // Empty scene for half a second, then an impostor scoring 0.6 on every frame.
  const r = await run([...Array<number>(15).fill(100), 160]);
  assert.deepEqual([r.result, r.reason], ['deny', 'no-match']);
  assert.ok(r.atMs > 3900, `answered at ${r.atMs}`);
  assert.ok(r.embedded > 100, 'the impostor was scored on every frame until the deadline');
});

test('a face that arrives after the first second is too late when nothing was seen before', async () => {
  const r = await run([...Array<number>(40).fill(100), 199]);
  assert.deepEqual([r.result, r.reason], ['unavailable', 'no-face']);
  assert.equal(r.embedded, 0);
});

test('the genuine user is allowed on the second good frame; one lucky frame is not enough', async () => {
  const genuine = await run([100, 196, 195]);
  assert.deepEqual([genuine.result, genuine.reason], ['allow', 'match']);
  assert.equal(genuine.frames, 3);
  // One frame at 0.99 among frames at 0.6: mean of the best two is 0.795.
  const lucky = await run([199, 160]);
  assert.equal(lucky.result, 'deny');
  // The per-frame rule would have let it in on the first frame.
  const perFrame = await run([199, 160], { rule: 'k-of', rule_frames: 1 });
  assert.deepEqual([perFrame.result, perFrame.frames], ['allow', 1]);
});
