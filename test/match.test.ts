import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosine, dot, l2normalize, meanDirection } from '../src/match/similarity.js';
import { TemplateSet, matchScore } from '../src/match/templates.js';
import { attemptSettingsFor, mergeCalibration, thresholdFor, validateCalibration, type CalibrationSource } from '../src/match/calibration.js';

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);
const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('dot and cosine', () => {
  close(dot(v(1, 2, 3, 4, 5), v(5, 4, 3, 2, 1)), 35);
  close(cosine(v(3, 4), v(6, 8)), 1);
  close(cosine(v(1, 0), v(0, 2)), 0);
  assert.throws(() => dot(v(1, 2), v(1)), /length mismatch/);
  const n = l2normalize(v(3, 4));
  close(n[0]!, 0.6);
  close(n[1]!, 0.8);
  assert.throws(() => l2normalize(v(0, 0)), /zero/);
});

test('template aggregation: mean direction, max, top-k', () => {
  const s = Math.SQRT1_2;
  // Templates at 0° and 90°; probe at 45°.
  const set = new TemplateSet([v(1, 0), v(0, 1)]);
  const probe = v(s, s);
  close(set.score(probe, { aggregation: 'mean' }), 1); // centroid is exactly at 45°
  close(set.score(probe, { aggregation: 'max' }), s);
  close(set.score(v(1, 0), { aggregation: 'max' }), 1);
  close(set.score(v(1, 0), { aggregation: 'topk', k: 2 }), 0.5);
  close(set.score(v(1, 0), { aggregation: 'topk', k: 1 }), 1);
  close(set.score(v(1, 0), { aggregation: 'topk', k: 5 }), 0.5);
  close(matchScore(probe, [v(1, 0), v(0, 1)]), 1);
  const c = meanDirection([v(2, 0), v(0, 1)]); // normalised before averaging, so scale does not matter
  close(c[0]!, s);
  close(c[1]!, s);
  assert.throws(() => new TemplateSet([]), /at least one/);
  assert.throws(() => set.score(probe, { aggregation: 'topk', k: 0 }), /k >= 1/);
});

test('top-k keeps the k best of many templates', () => {
  const angles = [0, 10, 20, 30, 80, 170];
  const set = new TemplateSet(angles.map((d) => v(Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180))));
  const expected = [0, 10, 20].map((d) => Math.cos((d * Math.PI) / 180)).reduce((a, b) => a + b) / 3;
  close(set.score(v(1, 0), { aggregation: 'topk', k: 3 }), expected);
});

function source(thresholds: Record<string, number>): CalibrationSource {
  return { protocol: 'unlock', genuine: 10, impostor: 100000, thresholds, command: 'test' };
}

test('calibration: merge takes the strictest threshold, lookup steps to the stricter FAR', () => {
  const scoring = { aggregation: 'mean' as const, gallery: 5 };
  const a = mergeCalibration(null, 'm', null, scoring, 'a', source({ '1e-2': 0.3, '1e-3': 0.4, '1e-4': 0.5 }));
  const b = mergeCalibration(a, 'm', null, scoring, 'b', source({ '1e-2': 0.35, '1e-3': 0.38 }));
  assert.deepEqual(b.thresholds, { '1e-2': 0.35, '1e-3': 0.4, '1e-4': 0.5 });
  assert.throws(() => mergeCalibration(b, 'm', null, { aggregation: 'max', gallery: 5 }, 'c', source({})), /scoring/);
  assert.throws(() => mergeCalibration(b, 'other', null, scoring, 'c', source({})), /model/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-cal-'));
  fs.writeFileSync(path.join(dir, 'm.json'), JSON.stringify(b));
  assert.equal(thresholdFor('m', 1e-4, { dir }), 0.5);
  assert.equal(thresholdFor('m', 1e-3, { dir }), 0.4);
  assert.equal(thresholdFor('m', 5e-4, { dir }), 0.5); // between points: the stricter one
  assert.equal(thresholdFor('m', 0.5, { dir }), 0.35);
  assert.throws(() => thresholdFor('m', 1e-5, { dir }), /calibrated down to/);
  assert.throws(() => thresholdFor('m', 0, { dir }), /must be in/);
  assert.throws(() => thresholdFor('missing', 1e-4, { dir }), /no calibration/);
  assert.throws(() => thresholdFor('../etc', 1e-4, { dir }), /bad model id/);
  assert.throws(() => validateCalibration({ model: 'm' }, 'x'), /calibration x/);
  fs.rmSync(dir, { recursive: true });
});

test('the shipped calibration tables are valid', () => {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../calibration');
  // pad.json and liveness.json calibrate liveness, not a match threshold; their own tests check them.
  const notMatch = new Set(['pad.json', 'liveness.json']);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !notMatch.has(f)) : [];
  assert.ok(files.includes('face-api.json'), 'the shipped face-api table is checked');
  for (const f of files) {
    const t = validateCalibration(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), f);
    assert.equal(`${t.model}.json`, f);
    const th = Object.entries(t.thresholds).sort((x, y) => Number(y[0]) - Number(x[0]));
    for (let i = 1; i < th.length; i++) assert.ok(th[i]![1] >= th[i - 1]![1], `${f}: lower FAR must not lower the threshold`);
  }
});

test('calibration: the configured attempt rule may be stricter than the calibrated one, never looser', () => {
  const scoring = { aggregation: 'mean' as const, gallery: 5 };
  const t = mergeCalibration(null, 'r', null, scoring, 'a', source({ '1e-3': 0.4, '1e-4': 0.5 }), { kind: 'best-mean', frames: 2 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-cal-'));
  try {
    fs.writeFileSync(path.join(dir, 'r.json'), JSON.stringify(t));
    assert.deepEqual(attemptSettingsFor('r', 1e-4, { kind: 'best-mean', frames: 2 }, { dir }), { threshold: 0.5, rule: { kind: 'best-mean', frames: 2 } });
    assert.equal(attemptSettingsFor('r', 1e-4, { kind: 'k-of', frames: 2 }, { dir }).threshold, 0.5);
    assert.throws(() => attemptSettingsFor('r', 1e-4, { kind: 'k-of', frames: 1 }, { dir }), /looser than the "mean of the best 2/);
    assert.throws(() => attemptSettingsFor('r', 1e-4, { kind: 'best-mean', frames: 1 }, { dir }), /looser/);
    // A table without a rule was made for the per-frame rule, which every rule is at least as strict as.
    const old = { ...t };
    delete old.attempt_rule;
    fs.writeFileSync(path.join(dir, 'o.json'), JSON.stringify({ ...old, model: 'o' }));
    assert.equal(attemptSettingsFor('o', 1e-4, { kind: 'k-of', frames: 1 }, { dir }).threshold, 0.5);
    assert.throws(() => validateCalibration({ ...t, attempt_rule: { kind: 'any', frames: 1 } }, 'x'), /attempt_rule.*unknown attempt rule/);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
