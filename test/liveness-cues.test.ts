// Each liveness cue on synthetic input (src/liveness): what a photo does to it and what a live face does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { straightEdgeShare } from '../src/liveness/edges.js';
import { eyeAspectRatio, countBlinks } from '../src/liveness/eyes.js';
import { judgeWindow, type CueScores, type FusionParams } from '../src/liveness/fusion.js';
import { irGatePasses, irLighting } from '../src/liveness/ir.js';
import { LivenessChecker } from '../src/liveness/judge.js';
import { regionMotion } from '../src/liveness/motion.js';
import { planarity } from '../src/liveness/planarity.js';
import { smallGrey } from '../src/liveness/small-grey.js';
import type { Point, RawImage } from '../src/vision/types.js';

interface P3 {
  x: number;
  y: number;
  z: number;
}

/** A 68-point face in 3-D (iBUG order), about 100 px between the eyes, depth towards the camera for the nose. */
function face3d(eyeOpen = 1): P3[] {
  const p: P3[] = [];
  for (let i = 0; i < 17; i++) {
    const a = Math.PI * (0.05 + (0.9 * i) / 16);
    p.push({ x: -110 * Math.cos(a), y: 20 + 110 * Math.sin(a) * 0.9, z: -40 * Math.sin(a) });
  }
  for (let i = 0; i < 10; i++) p.push({ x: -90 + i * 20, y: -60 - 10 * Math.sin((Math.PI * (i % 5)) / 4), z: 10 });
  for (let i = 0; i < 4; i++) p.push({ x: 0, y: -40 + i * 18, z: 15 + i * 12 });
  for (let i = 0; i < 5; i++) p.push({ x: -20 + i * 10, y: 40, z: 40 - Math.abs(i - 2) * 8 });
  const eye = (cx: number): void => {
    const h = 12 * eyeOpen;
    p.push(
      { x: cx - 22, y: -30, z: 5 },
      { x: cx - 8, y: -30 - h, z: 8 },
      { x: cx + 8, y: -30 - h, z: 8 },
      { x: cx + 22, y: -30, z: 5 },
      { x: cx + 8, y: -30 + h * 0.8, z: 8 },
      { x: cx - 8, y: -30 + h * 0.8, z: 8 },
    );
  };
  eye(-50);
  eye(50);
  for (let i = 0; i < 12; i++) {
    const a = (2 * Math.PI * i) / 12;
    p.push({ x: -35 * Math.cos(a), y: 80 + 14 * Math.sin(a), z: 20 });
  }
  for (let i = 0; i < 8; i++) {
    const a = (2 * Math.PI * i) / 8;
    p.push({ x: -22 * Math.cos(a), y: 80 + 5 * Math.sin(a), z: 22 });
  }
  assert.equal(p.length, 68);
  return p;
}

/** Rotate about the vertical axis by `yaw` degrees and project (pinhole, 600 px focal length, 600 px away). */
function project(pts: P3[], yaw = 0, dx = 320, dy = 240): Point[] {
  const c = Math.cos((yaw * Math.PI) / 180);
  const s = Math.sin((yaw * Math.PI) / 180);
  return pts.map((q) => {
    const x = c * q.x + s * q.z;
    const z = -s * q.x + c * q.z;
    const k = 600 / (600 - z);
    return { x: dx + x * k, y: dy + q.y * k };
  });
}

/** A homography applied to 2-D points: what moving a printed photo does to every point on it. */
function warp(pts: Point[], h: number[]): Point[] {
  return pts.map((p) => {
    const w = h[6]! * p.x + h[7]! * p.y + 1;
    return { x: (h[0]! * p.x + h[1]! * p.y + h[2]!) / w, y: (h[3]! * p.x + h[4]! * p.y + h[5]!) / w };
  });
}

test('planarity: a photo moved, tilted and seen in perspective fits one homography; a turning head does not', () => {
  const photo = project(face3d());
  const moved = warp(photo, [1.05, 0.08, -20, -0.06, 0.97, 15, 2e-4, -1e-4]);
  const flat = planarity(photo, moved)!;
  assert.ok(flat.motion > 0.05, `the photo moved (${flat.motion})`);
  assert.ok(flat.residual < 1e-6, `a plane leaves no residual (${flat.residual})`);
  // The same face as a solid head turning 8 degrees: nose and jaw move differently (parallax).
  const head = planarity(project(face3d(), 0), project(face3d(), 8))!;
  assert.ok(head.residual > 0.01, `parallax left over (${head.residual})`);
  // Independent landmark motion (expression): also not explained by a homography.
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 6;
  const expressive = photo.map((p) => ({ x: p.x + rnd(), y: p.y + rnd() }));
  assert.ok(planarity(photo, expressive)!.residual > 0.01);
  assert.equal(planarity(photo.slice(0, 10), moved.slice(0, 10)), null, 'only the 68-point set is accepted');
});

test('eyes: open eyes read open, closed eyes fail attention in the window', () => {
  const open = eyeAspectRatio(project(face3d(1)))!;
  const closed = eyeAspectRatio(project(face3d(0.1)))!;
  assert.ok(open > 0.25, `open ${open}`);
  assert.ok(closed < 0.1, `closed ${closed}`);
  assert.equal(countBlinks([0.3, 0.3, 0.1, 0.3, 0.3, 0.05, 0.28]), 2);
  const params: FusionParams = { window: 4, thresholds: {}, min_ear: 0.18, ir: { min_face_gain: 20, min_ratio: 2 } };
  const frames = (ear: number): CueScores[] => Array.from({ length: 4 }, () => ({ ear }));
  assert.deepEqual(judgeWindow(frames(open), params), { live: true, failed: [] });
  assert.deepEqual(judgeWindow(frames(closed), params).failed, ['eyes-closed']);
  assert.deepEqual(judgeWindow(frames(open).slice(0, 3), params).failed, ['too-few-frames']);
});

function grey(width: number, height: number, f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = Math.max(0, Math.min(255, Math.round(f(x, y))));
  return { width, height, channels: 1, data };
}

/** Smooth random texture (sum of sines), so shifts are measurable everywhere. */
function texture(x: number, y: number): number {
  return 128 + 40 * Math.sin(x / 7) * Math.cos(y / 9) + 30 * Math.sin((x + 2 * y) / 13) + 20 * Math.cos((3 * x - y) / 11);
}

test('ring motion: a photo moved by hand carries its surroundings along, a head moves against a still room', () => {
  const box = { x: 240, y: 160, width: 160, height: 160 };
  const inBox = (x: number, y: number): boolean => x >= 200 && x < 440 && y >= 120 && y < 360;
  const a = smallGrey(grey(640, 480, texture));
  // Photo: the whole picture shifted by 8 px.
  const photo = regionMotion(a, smallGrey(grey(640, 480, (x, y) => texture(x - 8, y))), box)!;
  // Head: only the face region shifted, the room behind it unchanged.
  const head = regionMotion(a, smallGrey(grey(640, 480, (x, y) => (inBox(x, y) ? texture(x - 8, y) : texture(x, y)))), box)!;
  assert.ok(photo.face > 0.2 && head.face > 0.2, 'both faces moved');
  assert.ok(photo.coherence > 0.7, `photo coherence ${photo.coherence}`);
  assert.ok(head.coherence < 0.2, `head coherence ${head.coherence}`);
});

test('edges: a straight border beside the face reads as one strong line, a textured room does not', () => {
  const box = { x: 240, y: 160, width: 160, height: 160 };
  const border = smallGrey(grey(640, 480, (x) => (x < 180 ? 60 : 190)));
  const room = smallGrey(grey(640, 480, texture));
  const b = straightEdgeShare(border, box)!;
  const r = straightEdgeShare(room, box)!;
  assert.ok(b > 3 * r, `border ${b} vs room ${r}`);
});

test('IR gate: a face lit by the emitter passes, a phone screen (dark in IR) and a lit background fail', () => {
  const box = { x: 240, y: 160, width: 160, height: 160 };
  const inFace = (x: number, y: number): boolean => x >= 260 && x < 380 && y >= 180 && y < 300;
  const dark = grey(640, 480, () => 12);
  const face = grey(640, 480, (x, y) => (inFace(x, y) ? 150 : 30));
  const screen = grey(640, 480, (x, y) => (inFace(x, y) ? 18 : 30));
  const wall = grey(640, 480, () => 150);
  const s = { min_face_gain: 20, min_ratio: 2 };
  assert.equal(irGatePasses(irLighting(face, dark, box)!, s), true);
  assert.equal(irGatePasses(irLighting(screen, dark, box)!, s), false);
  assert.equal(irGatePasses(irLighting(wall, dark, box)!, s), false, 'a face no brighter than its background');
  assert.equal(irLighting({ ...face, channels: 3, data: new Uint8Array(640 * 480 * 3) }, dark, box), null, 'RGB frames have no IR path');
});

test('judge: an IR screen replay of a live-looking face is not live; the same face lit by the emitter is', async () => {
  const params: FusionParams = { window: 3, thresholds: {}, min_ear: 0.18, ir: { min_face_gain: 20, min_ratio: 2 } };
  const lm = project(face3d());
  const box = { x: 200, y: 150, width: 240, height: 260 };
  const inFace = (x: number, y: number): boolean => x >= 250 && x < 390 && y >= 200 && y < 360;
  const run = async (litFace: number): Promise<boolean> => {
    const a = new LivenessChecker(null, params).attempt();
    let live = false;
    for (let i = 0; i < 4; i++) {
      a.observeDark(grey(640, 480, () => 10));
      live = (
        await a.observe(
          grey(640, 480, (x, y) => (inFace(x, y) ? litFace : 25) + ((x * y + i) % 3)),
          { box, landmarks: lm },
        )
      ).live;
    }
    return live;
  };
  assert.equal(await run(160), true);
  assert.equal(await run(20), false);
  const noLm = await new LivenessChecker(null, params).attempt().observe(
    grey(64, 48, () => 100),
    { box },
  );
  assert.deepEqual([noLm.live, noLm.failed], [false, ['no-landmarks']]);
});
