import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropToPlanar, squareCrop, toSourcePoints } from '../src/vision/landmarks68.js';
import type { RawImage } from '../src/vision/types.js';

function ramp(width: number, height: number, channels: 1 | 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i % channels) * 50) & 255;
  return { width, height, channels, data };
}

test('squareCrop pads the short side like face-api (round(diff/2) after, the rest before)', () => {
  assert.deepEqual(squareCrop({ x: 10, y: 20, width: 100, height: 120 }), {
    x: 10,
    y: 20,
    width: 100,
    height: 120,
    side: 120,
    originX: 0,
    originY: 20,
  });
  // diff 5: 3 after, 2 before.
  assert.equal(squareCrop({ x: 10, y: 20, width: 100, height: 105 }).originX, 8);
  // Fractional boxes round their edges.
  assert.deepEqual(squareCrop({ x: 10.4, y: 19.6, width: 100.3, height: 100.2 }), {
    x: 10,
    y: 20,
    width: 101,
    height: 100,
    side: 101,
    originX: 10,
    originY: 20,
  });
  assert.throws(() => squareCrop({ x: 5, y: 5, width: 0.2, height: 10 }), /is empty/);
  assert.throws(() => squareCrop({ x: NaN, y: 5, width: 10, height: 10 }), /is not finite/);
  assert.throws(() => squareCrop({ x: 0, y: 5, width: Infinity, height: 10 }), /is not finite/);
});

test('a 112-pixel square box is copied pixel for pixel into planar RGB', () => {
  const img = ramp(130, 120, 3);
  const dst = new Float32Array(3 * 112 * 112);
  cropToPlanar(img, squareCrop({ x: 5, y: 3, width: 112, height: 112 }), 112, dst);
  for (const [u, v] of [
    [0, 0],
    [111, 0],
    [17, 93],
    [111, 111],
  ] as const) {
    for (let c = 0; c < 3; c++) {
      assert.equal(dst[c * 112 * 112 + v * 112 + u], img.data[((v + 3) * 130 + u + 5) * 3 + c]);
    }
  }
});

test('padding and pixels outside the image are black; grey is replicated to three planes', () => {
  const img = ramp(60, 50, 1);
  const dst = new Float32Array(3 * 112 * 112).fill(-1);
  // Box 40 wide, 56 tall at the right edge: 8 columns of padding each side, and columns past x=60 are outside.
  const crop = squareCrop({ x: 30, y: -6, width: 40, height: 56 });
  cropToPlanar(img, crop, 112, dst);
  const at = (c: number, u: number, v: number): number => dst[c * 112 * 112 + v * 112 + u]!;
  assert.equal(at(0, 0, 50), 0); // left padding
  assert.equal(at(0, 111, 50), 0); // right padding / outside the image
  assert.equal(at(0, 50, 0), 0); // above the image
  assert.ok(at(0, 40, 60) > 0);
  for (let i = 0; i < 112 * 112; i++) {
    assert.equal(dst[i + 112 * 112], dst[i]);
    assert.equal(dst[i + 2 * 112 * 112], dst[i]);
  }
});

test('wrong image buffer sizes are refused', () => {
  const bad: RawImage = { width: 10, height: 10, channels: 3, data: new Uint8Array(10) };
  assert.throws(() => cropToPlanar(bad, squareCrop({ x: 0, y: 0, width: 5, height: 5 }), 112, new Float32Array(3 * 112 * 112)), /expected 300/);
});

test('outputs map from the padded square back to source pixels', () => {
  const raw = new Float32Array(136);
  raw[0] = 0.5;
  raw[1] = 0.25;
  raw[2] = 1;
  raw[3] = 0;
  const pts = toSourcePoints(raw, squareCrop({ x: 10, y: 20, width: 100, height: 120 }));
  assert.deepEqual(pts[0], { x: 60, y: 50 });
  assert.deepEqual(pts[1], { x: 120, y: 20 });
  assert.equal(pts.length, 68);
});
