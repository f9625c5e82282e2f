import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { datasetsDir, modelsDir, PACKAGE_ROOT } from '../src/paths.js';
import { listDataset } from '../src/eval/dataset.js';
import { EmbeddingCache, type EmbedImage } from '../src/eval/embeddings.js';
import { evaluateDataset, type EvalSettings } from '../src/eval/evaluate.js';
import { needsFullDataset } from './helpers/fixtures.js';

const run = promisify(execFile);
const ORL = path.join(datasetsDir(), 'orl');
const haveModels = fs.existsSync(path.join(modelsDir(), 'manifest.json'));
const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

const SETTINGS: EvalSettings = {
  model: 'm',
  aggregation: { aggregation: 'mean' },
  gallery: 2,
  fusionModels: ['m', 'n'],
  fusionWeight: 0.5,
};

function tmpDataset(files: Record<string, string | Uint8Array>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-eval-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}

test('evaluator: faceless images are failures and listed, undecodable files are skipped and listed', async () => {
  const root = tmpDataset({ 'a/1.png': 'x', 'a/2.png': 'x', 'a/3.png': 'x', 'b/1.png': 'x', 'b/2.png': 'x', 'b/3.png': 'bad', 'b/notes.txt': 'ignored' });
  const fake: EmbedImage = async (p) => {
    const rel = path.relative(root, p);
    if (rel === 'b/3.png') return { kind: 'undecodable', error: 'not an image' };
    if (rel === 'a/3.png') return { kind: 'noface' };
    const x = rel.startsWith('a') ? 1 : 0;
    return { kind: 'face', vectors: { m: Float32Array.from([x + 0.01 * rel.length, 1 - x]) } };
  };
  const out = await evaluateDataset(listDataset(root), new EmbeddingCache(fake), SETTINGS);
  const r = out.report;
  assert.equal(r.images, 5);
  assert.equal(r.faces_found, 4);
  assert.deepEqual(r.no_face, [path.join('a', '3.png')]);
  assert.deepEqual(r.undecodable, [{ file: path.join('b', '3.png'), error: 'not an image' }]);
  // 5 decodable images: a has 3 (3 genuine pairs), b has 2 (1); 10 pairs in all.
  assert.equal(r.pairs!.genuine, 4);
  assert.equal(r.pairs!.impostor, 6);
  // The faceless a/3 makes two genuine pairs fail: EER > 0 although every real face is separable.
  assert.ok(r.pairs!.eer > 0);
  assert.equal(out.scores.pairs!.genuine.filter((s) => s === -Infinity).length, 2);
  // Unlock: gallery 2 → a has 1 probe (the faceless one), b none; impostors: a's gallery vs b's 2, b's vs a's 3.
  assert.equal(r.unlock!.genuine, 1);
  assert.equal(r.unlock!.impostor, 5);
  fs.rmSync(root, { recursive: true });
});

test('embedding cache runs each image once and turns a throw into a reported failure', async () => {
  let calls = 0;
  const cache = new EmbeddingCache(async (p) => {
    calls++;
    if (p === 'boom') throw new Error('kaput');
    return { kind: 'noface' };
  });
  await cache.get('x');
  await cache.get('x');
  assert.equal(calls, 1);
  assert.deepEqual(await cache.get('boom'), { kind: 'undecodable', error: 'kaput' });
});

test('facegate eval on 3 ORL people × 3 images (--cropped) with a corrupt file', {
  skip: needsFullDataset('orl') || (!haveModels && `models absent: ${modelsDir()} (npm run build:models)`),
}, async () => {
  const files: Record<string, Uint8Array> = {};
  for (const s of ['s1', 's2', 's3']) {
    for (const n of [1, 2, 3]) files[`${s}/${n}.pgm`] = fs.readFileSync(path.join(ORL, s, `${n}.pgm`));
  }
  files['s2/9.pgm'] = new TextEncoder().encode('P5\n92 112\n255\ntruncated');
  const root = tmpDataset(files);
  const plot = path.join(root, 'roc.svg');
  const { stdout } = await run(process.execPath, [CLI, 'eval', '--dataset', root, '--cropped', '--json', '--gallery', '2', '--no-flip', '--plot', plot], {
    maxBuffer: 1 << 24,
  });
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON report, probed field by field below
  const r = JSON.parse(stdout) as Record<string, any>;
  assert.equal(r.images, 9);
  assert.equal(r.faces_found, 9);
  assert.deepEqual(r.no_face, []);
  assert.equal(r.undecodable.length, 1);
  assert.equal(r.undecodable[0].file, path.join('s2', '9.pgm'));
  assert.equal(r.pairs.genuine, 9);
  assert.equal(r.pairs.impostor, 27);
  assert.ok(r.pairs.eer >= 0 && r.pairs.eer <= 0.5, `eer ${r.pairs.eer}`);
  assert.ok(r.pairs.eer_threshold > -1 && r.pairs.eer_threshold < 1);
  assert.deepEqual(Object.keys(r.pairs.tar_at_far), ['1e-2', '1e-3', '1e-4', '1e-5']);
  assert.deepEqual(Object.keys(r.pairs.threshold_at_far), ['1e-2', '1e-3', '1e-4', '1e-5']);
  // 27 impostor pairs cannot resolve even 1e-2.
  assert.equal(r.pairs.tar_at_far['1e-2'], null);
  assert.equal(r.unlock.genuine, 3);
  assert.equal(r.unlock.impostor, 18);
  assert.deepEqual(Object.keys(r.unlock.frr_at_far), ['1e-3', '1e-4', '1e-5']);
  assert.ok(fs.readFileSync(plot, 'utf8').startsWith('<svg'));
  fs.rmSync(root, { recursive: true });
});

test('facegate eval fails cleanly on a missing dataset and a malformed pairs file', async () => {
  await assert.rejects(run(process.execPath, [CLI, 'eval', '--dataset', '/nonexistent/facegate']), (err: { stderr: string; code: number }) => {
    assert.match(err.stderr, /cannot read dataset/);
    assert.equal(err.code, 1);
    return true;
  });
  const root = tmpDataset({ 'pairs.txt': '10 300\nAnn 1\n' });
  await assert.rejects(run(process.execPath, [CLI, 'eval', '--dataset', root, '--pairs', path.join(root, 'pairs.txt')]), (err: { stderr: string }) => {
    assert.match(err.stderr, /pairs.txt:2: expected a matched pair/);
    return true;
  });
  fs.rmSync(root, { recursive: true });
});

test('evaluator: the attempt protocol runs on the same vectors, per requested W, with recordings', async () => {
  // Two people, two recordings each of 3 frames named like NUAA (SEQUENCE-FRAME).
  const files: Record<string, string> = {};
  for (const who of ['a', 'b']) for (const s of ['s01', 's02']) for (let f = 1; f <= 3; f++) files[`${who}/${s}-000${f}.png`] = 'x';
  const root = tmpDataset(files);
  const fake: EmbedImage = async (p) => {
    const rel = path.relative(root, p);
    const x = rel.startsWith('a') ? 1 : 0;
    return { kind: 'face', vectors: { m: Float32Array.from([x + 0.01 * Number(rel.at(-5)), 1 - x]) } };
  };
  const out = await evaluateDataset(listDataset(root), new EmbeddingCache(fake), { ...SETTINGS, sequences: true, attemptFrames: [120, 2] });
  const full = out.scores.attempts!.get(120)!;
  // Gallery = 2 frames of s01; genuine = the s02 recording (one attempt of 3 frames); impostor = 2 recordings.
  assert.deepEqual([full.genuine.length, full.impostor.length, full.genuineFramesMax], [2, 4, 3]);
  const two = out.scores.attempts!.get(2)!;
  assert.deepEqual([two.genuine.length, two.impostor.length, two.impostorFramesMax], [2, 4, 2]);
  // The unlock protocol follows the recordings too: s01's third frame is not a probe.
  assert.equal(out.report.unlock!.genuine, 6);
  fs.rmSync(root, { recursive: true });
});
