import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { modelsDir } from '../src/paths.js';
import { FaceMeshLandmarker, FaceMesh68Landmarker, MESH_TO_IBUG68, cropToNhwc01, meshCrop, meshToIbug68, FACEMESH_SIZE } from '../src/vision/facemesh.js';
import { FaceApiLandmarker } from '../src/vision/landmarks68.js';
import { DLIB_ALIGN_POINTS } from '../src/vision/align.js';
import { BlazeFace } from '../src/vision/blazeface.js';
import { decodeFile, toGrey } from '../src/vision/decode.js';
import type { Point, RawImage } from '../src/vision/types.js';
import { realFaces } from './helpers/fixtures.js';

test('mesh crop: detector box enlarged 1.4x about its centre, squared to the longer side', () => {
  assert.deepEqual(meshCrop({ x: 100, y: 50, width: 80, height: 100 }), { x0: 70, y0: 30, side: 140 });
  assert.throws(() => meshCrop({ x: 0, y: 0, width: 0, height: 10 }), /empty/);
  assert.throws(() => meshCrop({ x: NaN, y: 0, width: 5, height: 10 }), /not finite/);
});

test('mesh to iBUG-68 mapping: 68 distinct mesh indices', () => {
  assert.equal(MESH_TO_IBUG68.length, 68);
  assert.equal(new Set(MESH_TO_IBUG68).size, 68);
  assert.ok(MESH_TO_IBUG68.every((i) => Number.isInteger(i) && i >= 0 && i < 468));
  const pts = Array.from({ length: 468 }, (_, i) => ({ x: i, y: -i }));
  assert.deepEqual(meshToIbug68(pts)[8], { x: 152, y: -152 });
  assert.throws(() => meshToIbug68(pts.slice(0, 100)), /need 468/);
});

test('mesh crop sampling: identity at 1:1, zeros outside the image, grey replicated', () => {
  const W = 4;
  const img: RawImage = { width: W, height: W, channels: 1, data: Uint8Array.from({ length: 16 }, (_, i) => i * 10) };
  const dst = new Float32Array(4 * 4 * 3);
  cropToNhwc01(img, { x0: 0, y0: 0, side: 4 }, 4, dst);
  for (let i = 0; i < 16; i++) for (let c = 0; c < 3; c++) assert.ok(Math.abs((dst[3 * i + c] as number) - (i * 10) / 255) < 1e-6);
  // Shifted fully outside: all zeros.
  cropToNhwc01(img, { x0: 10, y0: 10, side: 4 }, 4, dst);
  assert.ok(dst.every((v) => v === 0));
  // Half a pixel off the left edge blends with black.
  const rgb: RawImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 255, 0, 0]) };
  const d2 = new Float32Array(2 * 2 * 3);
  cropToNhwc01(rgb, { x0: -0.5, y0: 0, side: 2 }, 2, d2);
  assert.ok(Math.abs((d2[0] as number) - 0.5) < 1e-6);
  assert.equal(d2[1], 0);
});

const built = fs.existsSync(path.join(modelsDir(), 'human-facemesh.onnx')) && fs.existsSync(path.join(modelsDir(), 'blazeface-front.onnx'));

function mean(pts: readonly Point[], idx: number[]): Point {
  return { x: idx.reduce((a, i) => a + (pts[i] as Point).x, 0) / idx.length, y: idx.reduce((a, i) => a + (pts[i] as Point).y, 0) / idx.length };
}

test('facemesh on real faces: 468 points with eyes, nose and mouth where they belong; grey works', {
  skip: !built && 'models not built: run npm run build:models',
}, async () => {
  const det = await BlazeFace.load();
  const mesh = await FaceMeshLandmarker.load({ intraOpThreads: 1 });
  try {
    for (const { name: p, file } of realFaces(5)) {
      const img = await decodeFile(file);
      const [d] = await det.detect(img, { maxFaces: 1 });
      assert.ok(d, `no face in ${file}`);
      const { points, score } = await mesh.detectMesh(img, d.box);
      assert.equal(points.length, 468);
      assert.ok(score > 0.5, `${p}: face score ${score}`);
      const pts = points.map(({ x, y }) => ({ x, y }));
      const rEye = mean(pts, [33, 133]);
      const lEye = mean(pts, [362, 263]);
      const nose = pts[1] as Point;
      const mouth = mean(pts, [13, 14]);
      // Subject's right eye is on the image's left; eyes above the nose tip, nose above the mouth.
      assert.ok(rEye.x < nose.x && nose.x < lEye.x, `${p}: eyes/nose order`);
      assert.ok(Math.max(rEye.y, lEye.y) < nose.y && nose.y < mouth.y, `${p}: vertical order`);
      // The mesh eyes agree with BlazeFace's eye keypoints to within a fifth of the inter-ocular distance.
      const iod = Math.hypot(lEye.x - rEye.x, lEye.y - rEye.y);
      const kr = d.keypoints[0] as Point;
      const kl = d.keypoints[1] as Point;
      assert.ok(
        Math.hypot(kr.x - rEye.x, kr.y - rEye.y) < 0.2 * iod && Math.hypot(kl.x - lEye.x, kl.y - lEye.y) < 0.2 * iod,
        `${p}: eyes far from detector keypoints`,
      );
      // A grey frame gives nearly the same mesh.
      const grey = await mesh.detect(toGrey(img), d.box);
      const drift = Math.max(...grey.map((q, i) => Math.hypot(q.x - (pts[i] as Point).x, q.y - (pts[i] as Point).y)));
      assert.ok(drift < 0.15 * iod, `${p}: grey mesh drifts ${drift.toFixed(1)} px`);
    }
    // No face: a flat image scores low.
    const flat: RawImage = { width: 200, height: 200, channels: 1, data: new Uint8Array(200 * 200).fill(128) };
    const none = await mesh.detectMesh(flat, { x: 50, y: 50, width: 100, height: 100 });
    assert.ok(none.score < 0.5, `flat image face score ${none.score}`);
    assert.equal(FACEMESH_SIZE, 192);
  } finally {
    await mesh.close();
    await det.close();
  }
});

test('facemesh as 68 points agrees with face-api 68-point net on the alignment points', {
  skip: !built && 'models not built: run npm run build:models',
}, async () => {
  const det = await BlazeFace.load();
  const m68 = await FaceMesh68Landmarker.load({ intraOpThreads: 1 });
  const net = await FaceApiLandmarker.load({ intraOpThreads: 1 });
  try {
    assert.equal(m68.count, 68);
    let sum = 0;
    let n = 0;
    for (const { file } of realFaces(6)) {
      const img = await decodeFile(file);
      const [d] = await det.detect(img, { maxFaces: 1 });
      assert.ok(d);
      const a = await m68.detect(img, d.box);
      const b = await net.detect(img, d.box);
      assert.equal(a.length, 68);
      const iod = Math.hypot(
        ((b[42] as Point).x + (b[45] as Point).x - (b[36] as Point).x - (b[39] as Point).x) / 2,
        ((b[42] as Point).y + (b[45] as Point).y - (b[36] as Point).y - (b[39] as Point).y) / 2,
      );
      for (const i of DLIB_ALIGN_POINTS) {
        sum += Math.hypot((a[i] as Point).x - (b[i] as Point).x, (a[i] as Point).y - (b[i] as Point).y) / iod;
        n++;
      }
    }
    // Measured ≈ 0.05 of the inter-ocular distance; a wrong index or a misplaced crop gives > 0.2.
    assert.ok(sum / n < 0.1, `mean disagreement ${(sum / n).toFixed(3)} IOD`);
  } finally {
    await Promise.all([m68.close(), net.close(), det.close()]);
  }
});
