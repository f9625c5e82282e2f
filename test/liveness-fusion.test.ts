// The liveness fusion's fitting and calibration file, and eval-pad's attempt protocol, on small synthetic input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { padAttempts } from '../src/eval/pad-attempts.js';
import { listPadDataset } from '../src/eval/pad-dataset.js';
import { readLivenessCalibration, validateLivenessCalibration } from '../src/liveness/calibration.js';
import { fitFusion, slidingWindows } from '../src/liveness/fusion-fit.js';
import { judgeWindow, type CueScores } from '../src/liveness/fusion.js';
import { fusionParams } from '../src/liveness/load.js';
import { defaultConfig } from '../src/config/config.js';

test('fitFusion: thresholds at the percentile of live windows only; attacks never move them', () => {
  const live = Array.from({ length: 100 }, (_, i): CueScores => ({ pad: 0.5 + i / 200, motion: i / 1000, residual: 0.01, ear: 0.3 }));
  const seqs = [{ subject: 'a', cls: 'live', frames: live }];
  const fit = fitFusion(seqs, { window: 1, percentile: 0.05 });
  assert.ok(Math.abs(fit.thresholds.pad! - (0.5 + 4 / 200)) < 1e-9, `pad ${fit.thresholds.pad}`);
  assert.ok(Math.abs(fit.thresholds.stillness! - 95 / 1000) < 1e-9, `stillness ${fit.thresholds.stillness}`);
  assert.equal(fit.thresholds.edges, undefined, 'a cue no live window measured gets no threshold');
  const withAttacks = fitFusion([...seqs, { subject: 'a', cls: 'print', frames: live.map((c) => ({ ...c, pad: 0 })) }], { window: 1, percentile: 0.05 });
  assert.deepEqual(withAttacks.thresholds, fit.thresholds);
  assert.throws(() => fitFusion([{ subject: 'a', cls: 'print', frames: live }], { window: 1, percentile: 0.05 }), /no live window/);
});

test('slidingWindows: a frame without a face breaks the run', () => {
  const c: CueScores = { pad: 1 };
  assert.equal(slidingWindows([c, c, c, null, c, c], 2).length, 3);
  assert.equal(slidingWindows([c, null, c, null, c], 2).length, 0);
});

test('judgeWindow: a configured cue that cannot be measured fails closed', () => {
  const p = { window: 2, thresholds: { pad: 0.5, stillness: 0.3 }, min_ear: 0.18, ir: { min_face_gain: 20, min_ratio: 2 } };
  const ok: CueScores = { pad: 0.9, ear: 0.3, motion: 0.01, residual: 0.01 };
  assert.deepEqual(judgeWindow([ok, ok], p), { live: true, failed: [] });
  assert.deepEqual(
    judgeWindow(
      [
        { ...ok, motion: undefined },
        { ...ok, motion: undefined },
      ],
      p,
    ).failed,
    ['stillness'],
  );
  assert.deepEqual(
    judgeWindow(
      [
        { ...ok, pad: 0.1 },
        { ...ok, pad: 0.2 },
      ],
      p,
    ).failed,
    ['pad'],
  );
  assert.deepEqual(judgeWindow([ok, ok], p, false).failed, ['ir']);
});

test('calibration/liveness.json: the shipped file is valid, tied to the PAD model, and every default cue has a threshold', () => {
  const cal = readLivenessCalibration();
  assert.match(cal.pad_model_sha256 ?? '', /^[0-9a-f]{64}$/);
  const params = fusionParams(defaultConfig().liveness, cal);
  assert.deepEqual(Object.keys(params.thresholds).sort(), [...defaultConfig().liveness.cues].sort());
  assert.throws(() => validateLivenessCalibration({ window: 8, percentile: 0.02, thresholds: { pad: 0.3 } }, 'x'), /pad threshold needs pad_model_sha256/);
  assert.throws(() => validateLivenessCalibration({ window: 8, percentile: 0.02, thresholds: { glare: 1 } }, 'x'), /unknown cue/);
  assert.throws(() => validateLivenessCalibration({ window: 1, percentile: 0.02, thresholds: {} }, 'x'), /window/);
  assert.throws(() => fusionParams({ ...defaultConfig().liveness, cues: ['pad'] }, { window: 8, percentile: 0.02, thresholds: {} }), /"pad" has no threshold/);
});

test('eval-pad attempts: enrolment frames excluded, N-frame runs, subjects without live frames not enrolled', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-pad-'));
  try {
    const put = (rel: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), '');
    };
    for (let i = 0; i < 27; i++) put(`live/01/s01-${String(i).padStart(4, '0')}.jpg`);
    for (let i = 0; i < 10; i++) put(`live/01/s02-${String(i).padStart(4, '0')}.jpg`);
    for (let i = 0; i < 20; i++) put(`print/01/s03-${String(i).padStart(4, '0')}.jpg`);
    for (let i = 0; i < 20; i++) put(`print/02/s03-${String(i).padStart(4, '0')}.jpg`);
    const ds = listPadDataset(root);
    assert.deepEqual([ds.attackTypes, ds.subjects, ds.sequences.length], [['print'], ['01', '02'], 4]);
    const { attempts, enrol, unenrolled } = padAttempts(ds, 10);
    assert.deepEqual(
      enrol.get('01')!.map((f) => path.basename(f)),
      ['s01-0000.jpg', 's01-0001.jpg', 's01-0002.jpg', 's01-0003.jpg', 's01-0004.jpg'],
    );
    assert.deepEqual(unenrolled, ['02']);
    // s01: 22 frames after enrolment -> 2 attempts (2 left over); s02: 1; print/01: 2; print/02: none (not enrolled).
    assert.deepEqual(
      attempts.map((a) => `${a.cls}/${a.sequence}:${path.basename(a.frames[0]!)}`),
      ['live/s01:s01-0005.jpg', 'live/s01:s01-0015.jpg', 'live/s02:s02-0000.jpg', 'print/s03:s03-0000.jpg', 'print/s03:s03-0010.jpg'],
    );
    assert.ok(attempts.every((a) => a.frames.length === 10));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
