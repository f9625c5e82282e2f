import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../src/eval/dataset.js';
import { byName } from '../src/eval/dataset.js';
import { parseLfwPairs, lfwImagePath } from '../src/eval/lfw-pairs.js';
import { lfwAccuracy, lfwScores, pairsScores, summarisePairs, unlockScores } from '../src/eval/protocols.js';
import { rocCurve } from '../src/eval/metrics.js';
import { rocSvg } from '../src/eval/roc-svg.js';

/** Identities of sizes `sizes`; image i of identity k gets a unit vector at angle 20°·k + small offset. */
function toy(sizes: number[]): { ds: Dataset; vec: Float32Array[] } {
  const images: Dataset['images'][number][] = [];
  const identities: { name: string; images: number[] }[] = [];
  const vec: Float32Array[] = [];
  sizes.forEach((n, k) => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) {
      idx.push(images.length);
      images.push({ path: `/x/${k}/${i}.png`, rel: `${k}/${i}.png`, identity: k });
      const a = ((20 * k + i) * Math.PI) / 180;
      vec.push(Float32Array.from([Math.cos(a), Math.sin(a)]));
    }
    identities.push({ name: String(k), images: idx });
  });
  return { ds: { root: '/x', identities, images }, vec };
}

test('pairs protocol: counts and faceless images', () => {
  const { ds, vec } = toy([3, 4, 2]);
  const s = pairsScores(ds, vec);
  assert.equal(s.genuine.length, 3 + 6 + 1);
  assert.equal(s.impostor.length, 36 - 10);
  const withHole = pairsScores(
    ds,
    vec.map((v, i) => (i === 0 ? null : v)),
  );
  assert.equal(withHole.genuine.filter((x) => x === -Infinity).length, 2);
  assert.equal(withHole.impostor.filter((x) => x === -Infinity).length, 6);
  const sum = summarisePairs(s);
  assert.equal(sum.eer, 0); // identities are 20° apart, spread 3°: separable
  assert.equal(sum.genuine, 10);
  assert.equal(sum.tar_at_far['1e-2'], null); // 26 impostors cannot resolve 1e-2
});

test('unlock protocol: gallery = first images, impostors = every image of the others', () => {
  const { ds, vec } = toy([7, 6, 5]);
  const s = unlockScores(ds, vec, { aggregation: 'mean', gallery: 5 });
  assert.equal(s.genuine.length, 2 + 1 + 0);
  assert.equal(s.impostor.length, 6 + 5 + (7 + 5) + (7 + 6));
  // A whole gallery without faces: its genuine attempts all fail.
  const noGallery = unlockScores(
    ds,
    vec.map((v, i) => (i < 5 ? null : v)),
    { aggregation: 'max', gallery: 5 },
  );
  assert.deepEqual(Array.from(noGallery.genuine.slice(0, 2)), [-Infinity, -Infinity]);
  assert.ok(noGallery.genuine[2]! > 0.9);
});

test('names sort with numbers compared as numbers', () => {
  assert.deepEqual(['10.pgm', '2.pgm', '1.pgm'].sort(byName), ['1.pgm', '2.pgm', '10.pgm']);
  assert.deepEqual(['A_0010.jpg', 'A_0002.jpg'].sort(byName), ['A_0002.jpg', 'A_0010.jpg']);
});

const PAIRS = `2 2
Ann\t1\t2
Bob 1 3
Ann 1 Bob 2
Bob 3 Cy 1

Cy 1 2
Ann 2 3
Ann 3 Cy 2
Bob 1 Cy 1
`;

test('LFW pairs: parse folds, matched and mismatched', () => {
  const p = parseLfwPairs(PAIRS);
  assert.equal(p.folds, 2);
  assert.equal(p.pairsPerFold, 2);
  assert.equal(p.pairs.length, 8);
  assert.deepEqual(p.pairs[0], { a: { name: 'Ann', n: 1 }, b: { name: 'Ann', n: 2 }, same: true, fold: 0, line: 2 });
  assert.deepEqual(p.pairs[3], { a: { name: 'Bob', n: 3 }, b: { name: 'Cy', n: 1 }, same: false, fold: 0, line: 5 });
  assert.equal(p.pairs[4]!.fold, 1);
  assert.equal(lfwImagePath('/d', 'Ann', 7), '/d/Ann/Ann_0007.jpg');
  assert.equal(parseLfwPairs('1\nA 1 2\nA 1 B 1\n').pairs.length, 2);
});

test('LFW pairs: malformed files give errors naming the line', () => {
  assert.throws(() => parseLfwPairs(''), /empty file/);
  assert.throws(() => parseLfwPairs('2 x\n'), /:1: pairs per fold must be a positive integer/);
  assert.throws(() => parseLfwPairs('1 2 3\n'), /:1: header/);
  assert.throws(() => parseLfwPairs('1 1\nAnn 1 Bob 2\nAnn 1 Bob 2\n'), /:2: expected a matched pair/);
  assert.throws(() => parseLfwPairs('1 1\nAnn 1 2\nAnn 1 2\n'), /:3: expected a mismatched pair/);
  assert.throws(() => parseLfwPairs('1 1\nAnn one 2\nAnn 1 Bob 2\n'), /:2: image number must be a positive integer, got "one"/);
  assert.throws(() => parseLfwPairs('1 2\nAnn 1 2\nAnn 1 3\nAnn 1 Bob 2\n'), /ended early: fold 1 needs 2 mismatched pairs, found 1/);
  assert.throws(() => parseLfwPairs('1 1\nAnn 1 2\nAnn 1 Bob 2\nextra 1 2\n'), /:4: unexpected line/);
  assert.throws(() => parseLfwPairs('1 1\n.. 1 2\nAnn 1 Bob 2\n', 'p.txt'), /p.txt:2: bad name/);
});

test('LFW 10-fold accuracy: threshold from the other folds', () => {
  const p = parseLfwPairs(PAIRS);
  // Fold 0 scores: same 0.9 0.8, diff 0.2 0.1. Fold 1: same 0.7 0.3, diff 0.4 0.35.
  const scores = Float64Array.from([0.9, 0.8, 0.2, 0.1, 0.7, 0.3, 0.4, 0.35]);
  const r = lfwAccuracy(p, scores);
  // Fold 0 tested with the best threshold on fold 1: accept > 0.55 (3/4 on fold 1, the lowest such); fold 0: 4/4.
  // Fold 1 tested with fold 0's best threshold (> 0.5, between 0.2 and 0.8): same 0.7 ok, 0.3 no, diffs ok: 3/4.
  assert.deepEqual(r.folds, [1, 0.75]);
  assert.equal(r.accuracy, 0.875);
  assert.ok(Math.abs(r.std - Math.sqrt(0.03125)) < 1e-12);
  const missing = lfwScores(p, (name) => (name === 'Cy' ? null : Float32Array.from([1, 0])));
  assert.equal(missing[3], -Infinity);
  assert.equal(missing[0], 1);
  assert.throws(() => lfwAccuracy(parseLfwPairs('1\nA 1 2\nA 1 B 1\n'), Float64Array.from([1, 0])), /at least 2 folds/);
});

test('ROC SVG is self-contained and has one curve per series', () => {
  const g = Array.from({ length: 100 }, (_, i) => 0.5 + i / 200);
  const im = Array.from({ length: 20000 }, (_, i) => i / 20000);
  const svg = rocSvg([
    { label: 'pairs <a&b>', points: rocCurve(g, im) },
    { label: 'unlock', points: rocCurve(g, im.slice(0, 1000)) },
  ]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'));
  assert.ok(svg.includes('pairs &#60;a&#38;b&#62;'));
  assert.ok(svg.includes('>1e-5<'));
  assert.ok(svg.length < 60000, `svg is ${svg.length} bytes`);
});

test('generated LFW-style pairs parse back, with identity-disjoint folds', async () => {
  const { makeLfwPairs } = await import('../src/eval/lfw-pairs.js');
  const people = Array.from({ length: 20 }, (_, i) => ({ name: `P${i}`, images: [1, 2, 3, 4] }));
  const text = makeLfwPairs(people, 4, 6, 3);
  assert.equal(text, makeLfwPairs(people, 4, 6, 3));
  const p = parseLfwPairs(text);
  assert.equal(p.pairs.length, 4 * 12);
  const foldOf = new Map<string, number>();
  for (const pr of p.pairs) {
    for (const name of [pr.a.name, pr.b.name]) {
      assert.equal(foldOf.get(name) ?? pr.fold, pr.fold, `${name} in two folds`);
      foldOf.set(name, pr.fold);
    }
    assert.equal(pr.same, pr.a.name === pr.b.name);
  }
  assert.throws(() => makeLfwPairs(people.slice(0, 2), 2, 50), /not enough/);
});
