import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, defaultConfig, serviceEnabled } from '../src/config/config.js';
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

test('loadConfig: explicit file must exist; overrides are validated and resolved', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cfg-'));
  try {
    assert.throws(() => loadConfig({ config: path.join(dir, 'missing.toml') }), /cannot read config file \(ENOENT\)/);
    const file = path.join(dir, 'c.toml');
    fs.writeFileSync(file, '[verify]\nframes_needed = 2\n');
    // replay: only when the file opts in (issue 7: the production daemon must not take a directory of photos).
    assert.throws(() => loadConfig({ config: file, camera: 'replay:/tmp' }), /camera\.device: replay: cameras are accepted only with camera\.allow_replay = true/);
    fs.writeFileSync(file, '[verify]\nframes_needed = 2\n[camera]\nallow_replay = true\n');
    const cfg = loadConfig({ config: file, db: 'x.db', camera: 'replay:/tmp' });
    assert.equal(cfg.verify.frames_needed, 2);
    assert.equal(cfg.daemon.db, path.join(process.cwd(), 'x.db'));
    assert.equal(cfg.camera.device, 'replay:/tmp');
    assert.throws(() => loadConfig({ config: file, camera: 'webcam' }), /camera\.device/);
    fs.writeFileSync(file, '[verify]\nframes_needed = 0\n');
    assert.throws(() => loadConfig({ config: file }), /c\.toml: verify\.frames_needed: must be in \[1, 100\], got 0/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
