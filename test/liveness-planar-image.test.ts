// The planarity cue on real pixels through the real landmark net: one nuaa-dev face image warped by a different
// homography per frame (a photo moved in front of the camera) reads flat; the live sequence it was taken from
// (a head, with parallax and expression) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readLivenessCalibration } from '../src/liveness/calibration.js';
import { summarise, type CueScores } from '../src/liveness/fusion.js';
import { LivenessChecker } from '../src/liveness/judge.js';
import { modelsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline } from '../src/vision/pipeline.js';
import type { RawImage } from '../src/vision/types.js';
import { liveScenario } from './helpers/fixtures.js';

const skip = !fs.existsSync(path.join(modelsDir(), 'manifest.json')) && 'models not built (npm run build:models)';

/** Inverse-mapped bilinear warp of an RGB image by the homography h (destination → source given as its inverse). */
function warp(img: RawImage, inv: number[]): RawImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = inv[6]! * x + inv[7]! * y + 1;
      const sx = (inv[0]! * x + inv[1]! * y + inv[2]!) / d;
      const sy = (inv[3]! * x + inv[4]! * y + inv[5]!) / d;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number): number => img.data[(yy * w + xx) * 3 + c]!;
        out[(y * w + x) * 3 + c] = Math.round(
          (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) + fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1)),
        );
      }
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}

/** A photo moved about its centre: shift, in-plane rotation and a little perspective growing frame by frame. */
function photoMotion(k: number): number[] {
  const a = ((k % 2 ? 1 : -1) * 2 * k * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const tx = 320 - (c * 320 - s * 240) + 6 * k;
  const ty = 240 - (s * 320 + c * 240) - 4 * k;
  return [c, -s, tx, s, c, ty, 2e-5 * k, -1e-5 * k];
}

async function cuesOf(pipe: FacePipeline, frames: RawImage[]): Promise<CueScores[]> {
  const cal = readLivenessCalibration();
  const attempt = new LivenessChecker(null, { window: cal.window, thresholds: {}, min_ear: 0, ir: { min_face_gain: 0, min_ratio: 0 } }).attempt();
  const out: CueScores[] = [];
  for (const img of frames) {
    const f = (await pipe.analyze(img, { embed: false, maxFaces: 1 })).faces[0];
    assert.ok(f, 'a face in every frame');
    out.push((await attempt.observe(img, { box: f.box, landmarks: f.landmarks })).cues);
  }
  return out;
}

test('planarity on real pixels: a warped photo reads flat, the live head it came from does not', { skip: skip || false }, async (t) => {
  const cal = readLivenessCalibration();
  const threshold = cal.thresholds.parallax;
  assert.ok(threshold !== undefined, 'the shipped calibration uses parallax');
  // nuaa-dev live/0001's first consecutive frames (from the data set, or its copies in test/fixtures).
  const scenario = liveScenario();
  const files = [...scenario.enrol, ...scenario.genuine].slice(0, cal.window + 1);
  assert.equal(files.length, cal.window + 1);
  const pipe = await FacePipeline.load({ embedders: [], landmarker: '68', intraOpThreads: 1 });
  try {
    const still = await decodeFile(files[0]!);
    const photo = await cuesOf(
      pipe,
      Array.from({ length: cal.window + 1 }, (_, k) => warp(still, photoMotion(k))),
    );
    const head = await cuesOf(pipe, await Promise.all(files.map((f) => decodeFile(f))));
    const p = summarise(photo.slice(1)).parallax!;
    const h = summarise(head.slice(1)).parallax!;
    t.diagnostic(`parallax: warped photo ${p.toFixed(4)}, live head ${h.toFixed(4)}, threshold ${threshold.toFixed(4)}`);
    assert.ok(p < threshold, `warped photo parallax ${p} should be below the shipped threshold ${threshold}`);
    assert.ok(h >= threshold, `live head parallax ${h} should clear the shipped threshold ${threshold}`);
  } finally {
    await pipe.close();
  }
});
