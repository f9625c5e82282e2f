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
  const cfg = parseConfig('[verify]\ntarget_far = 1e-5\nrule = "k-of"\nrule_frames = 3\n[services]\ndefault = false\nsudo = true\n');
  assert.equal(cfg.verify.target_far, 1e-5);
  assert.equal(cfg.verify.rule, 'k-of');
  assert.equal(cfg.verify.rule_frames, 3);
  assert.equal(serviceEnabled(cfg, 'sudo'), true);
  assert.equal(serviceEnabled(cfg, 'other'), false);
  assert.equal(serviceEnabled(cfg, 'sshd'), false);
  assert.equal(serviceEnabled(defaultConfig(), 'login'), true);
  assert.equal(serviceEnabled(defaultConfig(), 'toString'), false, 'prototype keys are not services');
  const on = parseConfig('[services]\ndefault = true\n');
  assert.equal(serviceEnabled(on, 'toString'), true, 'prototype keys are not services');
  assert.equal(serviceEnabled(on, 'whatever'), true);
});

test('defaults: services off unless on the allowlist; greeters; lockout', () => {
  const d = defaultConfig();
  for (const s of [
    'sudo',
    'su',
    'login',
    'polkit-1',
    'gdm-password',
    'kde',
    'sddm',
    'lightdm',
    'xscreensaver',
    'swaylock',
    'hyprlock',
    'i3lock',
    'cinnamon-screensaver',
    'mate-screensaver',
  ]) {
    assert.equal(serviceEnabled(d, s), true, s);
  }
  for (const s of ['sshd', 'cron', 'dbus', 'other', 'systemd-user', 'sudo-i', 'passwd']) assert.equal(serviceEnabled(d, s), false, s);
  assert.ok(
    !d.local.greeters.includes('sudo') && !d.local.greeters.includes('su') && !d.local.greeters.includes('polkit-1'),
    'sudo, su, polkit-1 always run in a session',
  );
  assert.deepEqual(d.lockout, { attempts: 5, seconds: 600 });
  // Adding a service keeps the allowlist; switching one off leaves the others on.
  const c = parseConfig('[services]\nmy-locker = true\nsu = false\n[local]\ngreeters = ["my-locker", "my-locker"]\n[lockout]\nattempts = 3\nseconds = 60\n');
  assert.equal(serviceEnabled(c, 'my-locker'), true);
  assert.equal(serviceEnabled(c, 'su'), false);
  assert.equal(serviceEnabled(c, 'sudo'), true);
  assert.deepEqual(c.local.greeters, ['my-locker']);
  assert.deepEqual(c.lockout, { attempts: 3, seconds: 60 });
});

const bad: Array<[string, RegExp]> = [
  ['[verify]\nframes_neded = 2\n', /verify\.frames_neded: unknown key/],
  ['[verfy]\n', /verfy: unknown section/],
  ['[verify]\ntarget_far = 0\n', /verify\.target_far: must be in \(0, 1\]/],
  ['[verify]\nrule_frames = 1.5\n', /verify\.rule_frames: must be an integer/],
  ['[verify]\nframes_needed = 2\n', /verify\.frames_needed: replaced by verify\.rule and verify\.rule_frames/],
  ['[verify]\nrule = "any"\n', /verify\.rule: must be one of "best-mean", "k-of", got "any"/],
  ['[verify]\nface_wait = -1\n', /verify\.face_wait: must be in \[0, 120\], got -1/],
  ['[verify]\nface_wait = 121\n', /verify\.face_wait: must be in \[0, 120\], got 121/],
  ['[verify]\ntimeout = "4"\n', /verify\.timeout: must be a number/],
  ['[camera]\ndevice = "video0"\n', /camera\.device: must be "v4l2/],
  ['[camera]\ndevice = "v4l2:/dev/video0?fps=abc"\n', /camera\.device: .*fps=abc is not a whole number/],
  ['[daemon]\nsocket = "relative.sock"\n', /daemon\.socket: must be an absolute path/],
  ['[services]\nsudo = "yes"\n', /services\.sudo: must be true or false/],
  ['[services]\n"bad name" = true\n', /services\.bad name: is not a valid PAM service name/],
  ['[verify]\nmin_brightness = 200\nmax_brightness = 100\n', /verify\.min_brightness: must be below/],
  ['[verify]\nembedders = ["ok", "no spaces"]\n', /verify\.embedders\[1\]/],
  ['[local]\ngreeters = "gdm-password"\n', /local\.greeters: must be an array of PAM service names/],
  ['[local]\ngreeters = ["ok", "bad name"]\n', /local\.greeters\[1\]: must be a PAM service name/],
  ['[local]\nlocalhost = true\n', /local\.localhost: unknown key/],
  ['[lockout]\nattempts = 0\n', /lockout\.attempts: must be in \[1, 100\], got 0/],
  ['[lockout]\nattempts = 2.5\n', /lockout\.attempts: must be an integer/],
  ['[lockout]\nseconds = 0\n', /lockout\.seconds: must be in \[1, 604800\]/],
  ['[lockout]\nseconds = "600"\n', /lockout\.seconds: must be a number/],
  ['[lockout]\ntries = 5\n', /lockout\.tries: unknown key/],
  ['verify = 3\n', /verify: must be a table/],
  ['[verify\n', /invalid TOML \(line 1/],
];
for (const [text, re] of bad) {
  test(`rejects ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseConfig(text),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
    );
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
    fs.writeFileSync(file, '[verify]\nrule_frames = 2\n[local]\ngreeters = ["x"]\n[lockout]\nattempts = 2\n');
    // replay: only when the file opts in (issue 7: the production daemon must not take a directory of photos).
    assert.throws(
      () => loadConfig({ config: file, camera: 'replay:/tmp' }),
      /camera\.device: replay: cameras are accepted only with camera\.allow_replay = true/,
    );
    fs.writeFileSync(
      file,
      '[verify]\nrule_frames = 2\n[local]\ngreeters = ["x"]\n[lockout]\nattempts = 2\n[camera]\nallow_replay = true\n[liveness]\nenabled = false\nmin_ear = 0.2\n',
    );
    const cfg = loadConfig({ config: file, db: 'x.db', camera: 'replay:/tmp' });
    assert.equal(cfg.verify.rule_frames, 2);
    assert.deepEqual(cfg.local.greeters, ['x'], 'command-line overrides keep every section of the file');
    assert.equal(cfg.lockout.attempts, 2);
    assert.deepEqual([cfg.liveness.enabled, cfg.liveness.min_ear], [false, 0.2]);
    assert.equal(cfg.daemon.db, path.join(process.cwd(), 'x.db'));
    assert.equal(cfg.camera.device, 'replay:/tmp');
    assert.throws(() => loadConfig({ config: file, camera: 'webcam' }), /camera\.device/);
    fs.writeFileSync(file, '[verify]\nrule_frames = 0\n');
    assert.throws(() => loadConfig({ config: file }), /c\.toml: verify\.rule_frames: must be in \[1, 100\], got 0/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
