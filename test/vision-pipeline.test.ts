import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { datasetsDir, modelsDir } from '../src/paths.js';
import { FacePipeline, type LandmarkerId } from '../src/vision/pipeline.js';
import sharp from 'sharp';
import { decodeFile, decodeImage as decodeEncoded, toGrey } from '../src/vision/decode.js';
import { liveScenario, needsFullDataset, realFaces } from './helpers/fixtures.js';

function built(id: string): boolean {
  return fs.existsSync(path.join(modelsDir(), `${id}.onnx`));
}
const noDetector = !built('blazeface-front') && `models absent in ${modelsDir()}: run "npm run build:models"`;
const noChain = (!built('blazeface-front') || !built('faceapi-recognition') || !built('faceapi-landmark68')) && `face-api models absent in ${modelsDir()}`;
const lfw = path.join(datasetsDir(), 'lfw-dev');
const orl = path.join(datasetsDir(), 'orl');
const noData = needsFullDataset('lfw-dev') || needsFullDataset('orl');

function cos(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

function people(dir: string, n: number): string[][] {
  return fs
    .readdirSync(dir)
    .filter((d) => fs.statSync(path.join(dir, d)).isDirectory())
    .sort()
    .slice(0, n)
    .map((d) =>
      fs
        .readdirSync(path.join(dir, d))
        .sort()
        .slice(0, 3)
        .map((f) => path.join(dir, d, f)),
    );
}

test('unknown embedders and landmarkers are refused with a clear error', { skip: noDetector }, async () => {
  await assert.rejects(FacePipeline.load({ embedders: ['no-such-model'] }), /unknown embedder "no-such-model"/);
  await assert.rejects(FacePipeline.load({ embedders: [], landmarker: 'nope' as LandmarkerId }), /unknown landmarker "nope"/);
});

test('a blank frame has no face; detection-only pipeline still times its stages', { skip: noDetector }, async () => {
  const p = await FacePipeline.load({ embedders: [] });
  try {
    const r = await p.analyze({ width: 64, height: 48, channels: 1, data: new Uint8Array(64 * 48).fill(30) });
    assert.equal(r.faces.length, 0);
    assert.ok(r.timings.detect > 0 && r.timings.total >= r.timings.detect);
    await assert.rejects(p.analyze({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48) }), /needs 9216 bytes/);
    await assert.rejects(p.analyzeEncoded(new TextEncoder().encode('P5 9 9 255\n')), /truncated/);
  } finally {
    await p.close();
  }
});

for (const landmarker of ['blazeface', '68'] as const) {
  test(`end to end (${landmarker} landmarks): the same person is more alike than different people`, { skip: noChain }, async () => {
    const p = await FacePipeline.load({ embedders: ['face-api'], landmarker, intraOpThreads: 1 });
    try {
      // Groups of people compared among themselves: lfw-dev photos and ORL crops; without the full sets, two
      // people's live webcam frames from test/fixtures.
      const live = liveScenario();
      const groups = noData ? [[live.enrol.slice(0, 3), live.impostor]] : [people(lfw, 3), people(orl, 2)];
      for (const sets of groups) {
        const embs: Float32Array[][] = [];
        for (const files of sets) {
          const row: Float32Array[] = [];
          for (const f of files) {
            const r = await p.analyze(await decodeFile(f), { cropped: f.endsWith('.pgm'), maxFaces: 1 });
            assert.equal(r.faces.length, 1, f);
            const face = r.faces[0]!;
            assert.equal(face.chips['face-api']!.width, 150);
            assert.equal(face.landmarks.length, landmarker === '68' ? 68 : 6);
            const q = face.quality;
            assert.ok(q.faceSizePx > 10 && q.sharpness > 0 && q.brightness > 0 && Math.abs(q.yaw) < 60, JSON.stringify(q));
            row.push(face.embeddings['face-api']!);
          }
          embs.push(row);
        }
        // Within each group, every person's mean same-person similarity beats their mean similarity to others.
        for (let i = 0; i < embs.length; i++) {
          const mine = embs[i]!;
          const same: number[] = [];
          for (let a = 0; a < mine.length; a++) for (let b = a + 1; b < mine.length; b++) same.push(cos(mine[a]!, mine[b]!));
          const other: number[] = [];
          for (let j = 0; j < embs.length; j++) if (j !== i) for (const x of mine) for (const y of embs[j]!) other.push(cos(x, y));
          const avg = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
          assert.ok(avg(same) > avg(other), `person ${i}: same ${avg(same).toFixed(3)} vs other ${avg(other).toFixed(3)}`);
        }
      }
    } finally {
      await p.close();
    }
  });
}

test('a face pasted into a 640×480 grey frame (IR camera) is found where it was put', { skip: noChain }, async () => {
  const p = await FacePipeline.load({ embedders: ['face-api'], intraOpThreads: 1 });
  try {
    const [real] = realFaces(1);
    // lfw-dev's 250×250 photo, or the 250×250 around the fixture frame's face (detected at 254,162 size 177).
    const face = toGrey(
      real!.centred
        ? await decodeFile(real!.file)
        : await decodeEncoded(await sharp(real!.file).extract({ left: 217, top: 126, width: 250, height: 250 }).png().toBuffer()),
    );
    const frame = new Uint8Array(640 * 480).fill(40);
    const ox = 300;
    const oy = 150;
    for (let y = 0; y < face.height; y++) frame.set(face.data.subarray(y * face.width, (y + 1) * face.width), (oy + y) * 640 + ox);
    const r = await p.analyze({ width: 640, height: 480, channels: 1, data: frame }, { maxFaces: 1 });
    assert.equal(r.faces.length, 1);
    const f = r.faces[0]!;
    const cx = f.box.x + f.box.width / 2;
    const cy = f.box.y + f.box.height / 2;
    assert.ok(Math.abs(cx - (ox + face.width / 2)) < 30 && Math.abs(cy - (oy + face.height / 2)) < 40, JSON.stringify(f.box));
    assert.equal(f.chips['face-api']!.channels, 3);
    assert.equal(f.embeddings['face-api']!.length, 128);
  } finally {
    await p.close();
  }
});

test('flip TTA gives a unit probe unlike the unflipped one, and the decoded path reports decode time', { skip: noChain }, async () => {
  const p = await FacePipeline.load({ embedders: ['face-api'], flipTTA: true, intraOpThreads: 1 });
  const plain = await FacePipeline.load({ embedders: ['face-api'], flipTTA: false, intraOpThreads: 1 });
  try {
    const file = realFaces(1)[0]!.file;
    const r = await p.analyzeEncoded(fs.readFileSync(file), { maxFaces: 1 });
    assert.ok((r.timings.decode ?? 0) > 0);
    const v = r.faces[0]!.embeddings['face-api']!;
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `norm ${Math.hypot(...v)}`);
    const u = (await plain.analyzeEncoded(fs.readFileSync(file), { maxFaces: 1 })).faces[0]!.embeddings['face-api']!;
    // The mirror image moves the probe a little, not to another person.
    const c = cos(u, v);
    assert.ok(c > 0.9 && c < 1 - 1e-6, `cosine flipped vs plain ${c}`);
  } finally {
    await p.close();
    await plain.close();
  }
});
