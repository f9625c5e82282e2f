import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, chipToImage, dlibMeanPoint, estimateSimilarity, flipHorizontal, invertAffine, warpAffine, type Affine } from '../src/vision/align.js';
import { axisCoeffs, LetterboxResizer } from '../src/vision/resize.js';
import { laplacianVariance, roughPose } from '../src/vision/quality.js';
import type { Point, RawImage } from '../src/vision/types.js';

function similarity(scale: number, angleDeg: number, tx: number, ty: number): Affine {
  const t = (angleDeg * Math.PI) / 180;
  const c = Math.cos(t) * scale;
  const s = Math.sin(t) * scale;
  return { a: c, b: -s, c: s, d: c, tx, ty };
}

function close(a: number, b: number, eps: number, what: string): void {
  assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);
}

/** A plausible 68-point face: dlib's mean face (jaw/brows filled by the nearest defined shape) scaled into pixels. */
function face68(m: Affine): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 68; i++) {
    const p = i >= 17 ? dlibMeanPoint(i) : { x: i / 16, y: 0.5 + 0.4 * Math.sin((Math.PI * i) / 16) };
    pts.push(applyAffine(m, { x: p.x * 100, y: p.y * 100 }));
  }
  return pts;
}

test('least-squares similarity recovers a known transform exactly from clean points', () => {
  const m = similarity(1.7, 23, 40, -12);
  const from = [
    { x: 0, y: 0 },
    { x: 10, y: 3 },
    { x: -4, y: 8 },
    { x: 6, y: -9 },
  ];
  const got = estimateSimilarity(
    from,
    from.map((p) => applyAffine(m, p)),
  );
  for (const k of ['a', 'b', 'c', 'd', 'tx', 'ty'] as const) close(got[k], m[k], 1e-9, k);
  const inv = invertAffine(got);
  const p = applyAffine(inv, applyAffine(got, { x: 3, y: 4 }));
  close(p.x, 3, 1e-9, 'x');
  close(p.y, 4, 1e-9, 'y');
  assert.throws(
    () =>
      estimateSimilarity(
        [
          { x: 1, y: 1 },
          { x: 1, y: 1 },
        ],
        [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      ),
    /coincide/,
  );
});

test('with noisy points the fit beats any perturbed transform (least squares)', () => {
  const m = similarity(0.8, -10, 5, 7);
  const from = Array.from({ length: 12 }, (_, i) => ({ x: Math.cos(i) * 30, y: Math.sin(i * 1.7) * 30 }));
  const to = from.map((p, i) => {
    const q = applyAffine(m, p);
    return { x: q.x + ((i * 7) % 5) - 2, y: q.y + ((i * 3) % 5) - 2 };
  });
  const fit = estimateSimilarity(from, to);
  const sse = (t: Affine): number => from.reduce((s, p, i) => s + (applyAffine(t, p).x - to[i]!.x) ** 2 + (applyAffine(t, p).y - to[i]!.y) ** 2, 0);
  for (const d of [-0.01, 0.01]) {
    assert.ok(sse(fit) < sse({ ...fit, a: fit.a + d, d: fit.d + d }));
    assert.ok(sse(fit) < sse({ ...fit, b: fit.b + d, c: fit.c - d }));
    assert.ok(sse(fit) < sse({ ...fit, tx: fit.tx + d }));
  }
});

test('dlib chip of a rotated face has level eyes at the template position', () => {
  for (const angle of [-30, 0, 17]) {
    const pts = face68(similarity(1.3, angle, 60, 40));
    const m = chipToImage('ibug68', pts, { size: 150, padding: 0.25 });
    const toChip = invertAffine(m);
    const eye = (idx: number[]): Point => {
      const ps = idx.map((i) => applyAffine(toChip, pts[i]!));
      return { x: ps.reduce((s, p) => s + p.x, 0) / ps.length, y: ps.reduce((s, p) => s + p.y, 0) / ps.length };
    };
    const r = eye([36, 37, 38, 39, 40, 41]);
    const l = eye([42, 43, 44, 45, 46, 47]);
    close(r.y, l.y, 1e-6, `eyes level at ${angle}°`);
    assert.ok(r.x < l.x, 'subject right eye on the image left');
    // Eye centres land where dlib's template puts them: (0.25 + x) / 1.5 · 150, give or take the corner convention.
    const expectY = ((0.25 + (dlibMeanPoint(37).y + dlibMeanPoint(40).y) / 2) / 1.5) * 150;
    close(r.y, expectY, 2, 'eye height');
  }
});

test('blazeface keypoints give level eyes as well', () => {
  const m0 = similarity(2, 12, 100, 50);
  const kp = [
    { x: 30, y: 40 },
    { x: 70, y: 40 },
    { x: 50, y: 62 },
    { x: 50, y: 80 },
  ].map((p) => applyAffine(m0, p));
  const toChip = invertAffine(chipToImage('blazeface6', kp, { size: 112, padding: 0.25 }));
  const r = applyAffine(toChip, kp[0]!);
  const l = applyAffine(toChip, kp[1]!);
  close(r.y, l.y, 1e-3, 'eye level');
  assert.ok(r.x < l.x && r.x > 0 && l.x < 112);
});

test('warp with the identity reproduces the image; outside it replicates the edge', () => {
  const img: RawImage = { width: 4, height: 3, channels: 1, data: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]) };
  const id = warpAffine(img, { a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0 }, 3);
  assert.deepEqual([...id.data], [0, 10, 20, 40, 50, 60, 80, 90, 100]);
  const shifted = warpAffine(img, { a: 1, b: 0, c: 0, d: 1, tx: -2, ty: 0 }, 2, 3);
  assert.equal(shifted.channels, 3);
  assert.deepEqual([...shifted.data.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  const half = warpAffine(img, { a: 1, b: 0, c: 0, d: 1, tx: 0.5, ty: 0 }, 1);
  assert.equal(half.data[0], 5);
  const f = flipHorizontal(img);
  assert.deepEqual([...f.data.subarray(0, 4)], [30, 20, 10, 0]);
});

test('resampling weights sum to one and a flat image letterboxes to a flat square with black bars', () => {
  for (const [i, o] of [
    [640, 128],
    [250, 128],
    [92, 128],
    [7, 3],
  ] as const) {
    const c = axisCoeffs(i, o);
    for (let k = 0; k < o; k++) {
      let s = 0;
      for (let t = 0; t < c.count[k]!; t++) s += c.weights[k * c.taps + t]!;
      close(s, 1, 1e-5, `${i}->${o}`);
    }
  }
  const r = new LetterboxResizer(16);
  const img: RawImage = { width: 40, height: 20, channels: 1, data: new Uint8Array(800).fill(255) };
  const lb = r.run(img);
  assert.equal(lb.padY, 4);
  assert.equal(lb.padX, 0);
  close(r.output[(8 * 16 + 8) * 3]!, 1, 1e-5, 'centre');
  assert.equal(r.output[0], -1);
});

test('quality: sharpness rises with detail, pose is near zero for the template face', () => {
  const flat: RawImage = { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(100) };
  const check: RawImage = { width: 8, height: 8, channels: 1, data: Uint8Array.from({ length: 64 }, (_, i) => (((i >> 3) + i) & 1 ? 200 : 0)) };
  assert.equal(laplacianVariance(flat), 0);
  assert.ok(laplacianVariance(check) > 1000);
  const pose = roughPose('ibug68', face68(similarity(1, 0, 0, 0)));
  assert.ok(Math.abs(pose.yaw) < 3 && Math.abs(pose.pitch) < 3, JSON.stringify(pose));
  // Shift the nose tip sideways: yaw turns toward it.
  const turned = face68(similarity(1, 0, 0, 0));
  turned[30] = { x: turned[30]!.x + 10, y: turned[30]!.y };
  assert.ok(roughPose('ibug68', turned).yaw > 10);
});
