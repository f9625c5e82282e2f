import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, defaultConfig, serviceEnabled, validateConfig } from '../src/config/config.js';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { PACKAGE_ROOT } from '../src/paths.js';

test('the sample config parses to exactly the defaults', () => {
  const text = fs.readFileSync(path.join(PACKAGE_ROOT, 'config', 'config.toml'), 'utf8');
  assert.deepEqual(parseConfig(text), defaultConfig());
});

test('values are read and typed', () => {
  const cfg = parseConfig('[verify]\ntarget_far = 1e-5\nframes_needed = 3\n[services]\ndefault = false\nsudo = true\n');
  assert.equal(cfg.verify.target_far, 1e-5);
  assert.equal(cfg.verify.frames_needed, 3);
  assert.equal(serviceEnabled(cfg, 'sudo'), true);
  assert.equal(serviceEnabled(cfg, 'login'), false);
  assert.equal(serviceEnabled(cfg, 'sshd'), false);
  assert.equal(serviceEnabled(defaultConfig(), 'login'), true);
  assert.equal(serviceEnabled(defaultConfig(), 'toString'), true, 'prototype keys are not services');
});

const bad: Array<[string, RegExp]> = [
  ['[verify]\nframes_neded = 2\n', /verify\.frames_neded: unknown key/],
  ['[verfy]\n', /verfy: unknown section/],
  ['[verify]\ntarget_far = 0\n', /verify\.target_far: must be in \(0, 1\]/],
  ['[verify]\nframes_needed = 1.5\n', /verify\.frames_needed: must be an integer/],
  ['[verify]\ntimeout = "4"\n', /verify\.timeout: must be a number/],
  ['[camera]\ndevice = "video0"\n', /camera\.device: must be "v4l2/],
  ['[camera]\ndevice = "v4l2:/dev/video0?fps=abc"\n', /camera\.device: .*fps=abc is not a whole number/],
  ['[daemon]\nsocket = "relative.sock"\n', /daemon\.socket: must be an absolute path/],
  ['[services]\nsudo = "yes"\n', /services\.sudo: must be true or false/],
  ['[services]\n"bad name" = true\n', /services\.bad name: is not a valid PAM service name/],
  ['[verify]\nmin_brightness = 200\nmax_brightness = 100\n', /verify\.min_brightness: must be below/],
  ['[verify]\nembedders = ["ok", "no spaces"]\n', /verify\.embedders\[1\]/],
  ['verify = 3\n', /verify: must be a table/],
  ['[verify\n', /invalid TOML \(line 1/],
];
for (const [text, re] of bad) {
  test(`rejects ${JSON.stringify(text)}`, () => {
    assert.throws(() => parseConfig(text), (err: unknown) => err instanceof ConfigError && re.test(err.message));
  });
}

test('[liveness]: on by default with every cue; bad cues, duplicates and unknown keys are errors', () => {
  const d = defaultConfig().liveness;
  assert.equal(d.enabled, true);
  assert.deepEqual(d.cues, ['pad', 'stillness', 'coherence', 'parallax', 'edges']);
  assert.throws(() => validateConfig({ liveness: { cues: ['pad', 'blink'] } }), /liveness\.cues\[1\]: must be one of/);
  assert.throws(() => validateConfig({ liveness: { cues: ['pad', 'pad'] } }), /listed twice/);
  assert.throws(() => validateConfig({ liveness: { enable: false } }), /liveness\.enable: unknown key/);
  assert.throws(() => validateConfig({ liveness: { min_ear: 2 } }), /liveness\.min_ear: must be in \[0, 1\]/);
  assert.equal(validateConfig({ liveness: { cues: ['pad'] } }).liveness.cues.length, 1);
});

test('loadConfig: explicit file must exist; overrides are validated and resolved', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cfg-'));
  try {
    assert.throws(() => loadConfig({ config: path.join(dir, 'missing.toml') }), /cannot read config file \(ENOENT\)/);
    const file = path.join(dir, 'c.toml');
    fs.writeFileSync(file, '[verify]\nframes_needed = 2\n[liveness]\nenabled = false\nmin_ear = 0.2\n');
    const cfg = loadConfig({ config: file, db: 'x.db', camera: 'replay:/tmp' });
    assert.equal(cfg.verify.frames_needed, 2);
    // Every table survives a command-line override (liveness was once reset to its defaults by --camera).
    assert.deepEqual([cfg.liveness.enabled, cfg.liveness.min_ear], [false, 0.2]);
    assert.equal(cfg.daemon.db, path.join(process.cwd(), 'x.db'));
    assert.equal(cfg.camera.device, 'replay:/tmp');
    assert.throws(() => loadConfig({ config: file, camera: 'webcam' }), /camera\.device/);
    fs.writeFileSync(file, '[verify]\nframes_needed = 0\n');
    assert.throws(() => loadConfig({ config: file }), /c\.toml: verify\.frames_needed: must be in \[1, 100\], got 0/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
