import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { modelsDir } from '../src/paths.js';
import { BlazeFace, blazeFaceAnchors, weightedNms, type NormDetection } from '../src/vision/blazeface.js';
import { decodeFile } from '../src/vision/decode.js';
import type { Detection, RawImage } from '../src/vision/types.js';
import { croppedFace, fullDataset, liveScenario } from './helpers/fixtures.js';

const haveModels = fs.existsSync(path.join(modelsDir(), 'blazeface-front.onnx'));
const noModels = !haveModels && `models absent in ${modelsDir()}: run "npm run build:models"`;
const lfw = fullDataset('lfw-dev');
const orl = fullDataset('orl');

/** lfw-dev and ORL samples; without the full sets, the fixtures' live frames of two people and their ORL crop. */
function realImages(withCrops: boolean): string[] {
  if (lfw && orl) return [...sample(lfw, 1, 25), ...(withCrops ? sample(orl, 1, 15) : [])];
  const s = liveScenario();
  return [...s.enrol, ...s.genuine, ...s.impostor, ...(withCrops ? [croppedFace()] : [])];
}

function det(cx: number, cy: number, s: number, score: number): NormDetection {
  return { cx, cy, w: s, h: s, kp: new Float32Array(12).fill(cx), score };
}

test('anchor grid: 16×16×2 then 8×8×6 cell centres', () => {
  const a = blazeFaceAnchors({ cells: 16, perCell: 2 });
  assert.equal(a.length / 2, 512);
  assert.deepEqual([a[0], a[1], a[2], a[3], a[4]], [1 / 32, 1 / 32, 1 / 32, 1 / 32, 3 / 32]);
  assert.equal(blazeFaceAnchors({ cells: 8, perCell: 6 }).length / 2, 384);
});

test('weighted NMS blends overlapping detections by score and keeps separate faces', () => {
  const out = weightedNms([det(0.5, 0.5, 0.2, 0.6), det(0.52, 0.5, 0.2, 0.9), det(0.1, 0.1, 0.1, 0.8)], 0.3);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.score, 0.9);
  assert.ok(Math.abs(out[0]!.cx - (0.5 * 0.6 + 0.52 * 0.9) / 1.5) < 1e-6);
  assert.ok(Math.abs(out[0]!.kp[0]! - out[0]!.cx) < 1e-6);
  assert.equal(out[1]!.score, 0.8);
  assert.equal(weightedNms([det(0.5, 0.5, 0.2, 0.6), det(0.1, 0.1, 0.1, 0.8)], 0.3, 1).length, 1);
});

test('no face in blank or noise images', { skip: noModels }, async () => {
  const d = await BlazeFace.load();
  try {
    const blank: RawImage = { width: 320, height: 240, channels: 1, data: new Uint8Array(320 * 240).fill(128) };
    assert.equal((await d.detect(blank)).length, 0);
    let seed = 1;
    const noise = new Uint8Array(200 * 200 * 3).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 255);
    assert.equal((await d.detect({ width: 200, height: 200, channels: 3, data: noise })).length, 0);
  } finally {
    await d.close();
  }
});

/** Eyes level-ish and above nose above mouth, all inside the box, subject's right eye on the image left. */
function assertPlausible(f: Detection, img: RawImage, what: string): void {
  const [re, le, nose, mouth] = f.keypoints as [(typeof f.keypoints)[0], (typeof f.keypoints)[0], (typeof f.keypoints)[0], (typeof f.keypoints)[0]];
  const b = f.box;
  for (const p of [re, le, nose, mouth]) {
    assert.ok(p.x > b.x && p.x < b.x + b.width && p.y > b.y && p.y < b.y + b.height, `${what}: keypoint outside box`);
  }
  assert.ok(re.x < le.x, `${what}: eye order`);
  const eyeY = (re.y + le.y) / 2;
  assert.ok(eyeY < nose.y && nose.y < mouth.y, `${what}: eyes above nose above mouth`);
  assert.ok(b.width > img.width * 0.2 && b.width < img.width * 1.2, `${what}: box size ${b.width}`);
  const cx = b.x + b.width / 2;
  assert.ok(Math.abs(cx - img.width / 2) < img.width * 0.2, `${what}: box centred`);
}

function contains(f: Detection, x: number, y: number): boolean {
  return x > f.box.x && x < f.box.x + f.box.width && y > f.box.y && y < f.box.y + f.box.height;
}

function sample(dir: string, perPerson: number, people: number): string[] {
  const ids = fs
    .readdirSync(dir)
    .filter((n) => fs.statSync(path.join(dir, n)).isDirectory())
    .sort()
    .slice(0, people);
  return ids.flatMap((id) =>
    fs
      .readdirSync(path.join(dir, id))
      .sort()
      .slice(0, perPerson)
      .map((f) => path.join(dir, id, f)),
  );
}

for (const variant of ['front', 'back'] as const) {
  // The back model is for small faces in wide frames; a 92×112 ORL crop blown up to 256 px is outside its range.
  const sets = variant === 'front' ? 'photos and tight crops' : 'photos';
  test(`${variant} model finds exactly one central, plausibly placed face in real ${sets}`, { skip: noModels }, async () => {
    const d = await BlazeFace.load({ model: variant });
    try {
      const files = realImages(variant === 'front');
      for (const file of files) {
        const img = await decodeFile(file);
        const faces = await d.detect(img);
        const what = `${variant} ${path.basename(path.dirname(file))}/${path.basename(file)}`;
        // LFW photos often show bystanders at the edges; exactly one face may cover the image centre, and it
        // must be the best-scoring one. ORL crops hold exactly one face.
        const central = faces.filter((f) => contains(f, img.width / 2, img.height / 2));
        assert.equal(central.length, 1, `${what}: ${central.length} central faces`);
        if (file.endsWith('.pgm')) assert.equal(faces.length, 1, `${what}: ${faces.length} faces`);
        assert.equal(faces[0], central[0], `${what}: the central face scores best`);
        assertPlausible(faces[0]!, img, what);
      }
    } finally {
      await d.close();
    }
  });
}
