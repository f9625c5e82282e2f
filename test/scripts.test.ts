import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { holdSystemLock, packageKnown } from './helpers/pam-harness.js';

for (const name of ['install.sh', 'uninstall.sh']) {
  const file = path.join(PACKAGE_ROOT, 'scripts', name);
  test(`${name} parses, is executable and refuses to run without root`, () => {
    assert.ok((fs.statSync(file).mode & 0o111) !== 0, 'executable');
    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    if (process.getuid?.() === 0) {
      // As nobody it must stop at the root check, before touching anything.
      // The script goes in on stdin, so it runs even where nobody cannot read the checkout.
      const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', '-s'], {
        encoding: 'utf8',
        cwd: '/',
        input: fs.readFileSync(file),
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /run as root/);
    }
  });
}

test('README keeps exactly two set-up commands: the installer and the tests', () => {
  const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('\n## ', readme.indexOf('## Set up') + 1));
  const commands = setup.split('\n').filter((l) => l.startsWith('    '));
  assert.deepEqual(
    commands.map((l) => l.trim()),
    ['sudo ./scripts/install.sh', './scripts/setup-dev.sh && npm test'],
  );
});

// ---- scripts/lib/layout.sh: what install.sh and uninstall.sh check before they change anything ----------------

const LAYOUT = path.join(PACKAGE_ROOT, 'scripts', 'lib', 'layout.sh');
const asRoot = process.getuid?.() === 0;

function layout(fn: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', `. "$0" && ${fn} "$@"`, LAYOUT, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('FACEGATE_PREFIX: only a normalised absolute path ending in /facegate is accepted', () => {
  for (const ok of ['/usr/lib/facegate', '/opt/facegate', '/usr/local/lib/facegate']) assert.equal(layout('fg_check_prefix', ok).status, 0, ok);
  for (const bad of [
    '',
    'usr/lib/facegate',
    '/',
    '/usr',
    '/usr/lib',
    '/etc',
    '/facegate',
    '/opt/facegate/',
    '/opt/../facegate',
    '/opt/./facegate',
    '/opt//facegate',
    '/opt/face gate',
    '/opt/facegate;rm',
    '/home/me/facegate-x',
    '/usr/lib/facegate\n/etc',
  ]) {
    const r = layout('fg_check_prefix', bad);
    assert.equal(r.status, 1, `accepted ${JSON.stringify(bad)}`);
    assert.match(r.stderr, /FACEGATE_PREFIX/);
  }
});

test('FACEGATE_PREFIX that is a symlink or a file is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-prefix-'));
  try {
    fs.symlinkSync('/usr', path.join(dir, 'facegate'));
    assert.equal(layout('fg_check_prefix', path.join(dir, 'facegate')).status, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Node.js binary for the units and wrappers must be root-owned in root-only directories', {
  skip: !asRoot && 'needs root to make root- and nobody-owned copies',
}, () => {
  const node = fs.realpathSync(process.execPath);
  const good = layout('fg_check_node', node);
  if (fs.statSync(node).uid === 0) {
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stdout.trim(), node);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-node-'));
  try {
    fs.chmodSync(dir, 0o755);
    // Owned by nobody: whoever is nobody could swap in code that runs as root.
    const theirs = path.join(dir, 'node');
    fs.copyFileSync('/bin/true', theirs);
    fs.chmodSync(theirs, 0o755);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(theirs, nobody, nobody);
    const r1 = layout('fg_check_node', theirs);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /owned by uid \d+, not root/);
    // Root's file in a directory others may write: it can be replaced.
    fs.chownSync(theirs, 0, 0);
    fs.chmodSync(dir, 0o777);
    const r2 = layout('fg_check_node', theirs);
    assert.equal(r2.status, 1);
    assert.ok(r2.stderr.includes(`${dir} is writable by group or others`), r2.stderr);
    // Group-writable binary.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(theirs, 0o775);
    const r3 = layout('fg_check_node', theirs);
    assert.equal(r3.status, 1);
    assert.ok(r3.stderr.includes(`${theirs} is writable by group or others`), r3.stderr);
    // A symlink is judged by what it points at (a link in /tmp to a root-owned node is fine).
    if (fs.statSync(node).uid === 0) {
      fs.symlinkSync(node, path.join(dir, 'link'));
      const r4 = layout('fg_check_node', path.join(dir, 'link'));
      assert.equal(r4.status, 0, r4.stderr);
      assert.equal(r4.stdout.trim(), node);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('install.sh refuses a bad FACEGATE_PREFIX or a Node.js not owned by root, before changing anything', {
  skip: !asRoot && 'install.sh stops at its root check first',
}, () => {
  const install = path.join(PACKAGE_ROOT, 'scripts', 'install.sh');
  // FACEGATE_INSTALL=refused-by-test: should a check wrongly pass, the script stops at its mode check instead of
  // installing, and the message tells which.
  const env = { ...process.env, FACEGATE_INSTALL: 'refused-by-test' };
  const bad = spawnSync('bash', [install], { encoding: 'utf8', env: { ...env, FACEGATE_PREFIX: '/usr/lib/../facegate' } });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /FACEGATE_PREFIX must not contain \. or \.\./);
  assert.match(bad.stderr, /nothing was changed/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-path-'));
  try {
    fs.chmodSync(dir, 0o755);
    const node = path.join(dir, 'node');
    fs.copyFileSync(process.execPath, node);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(node, nobody, nobody);
    fs.chmodSync(node, 0o755);
    const r = spawnSync('bash', [install], { encoding: 'utf8', env: { ...env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing Node\.js at .*owned by uid/);
    assert.doesNotMatch(r.stderr, /FACEGATE_INSTALL must be/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const installedHere = (): boolean =>
  packageKnown('facegate') ||
  fs.existsSync('/etc/systemd/system/facegate.service') ||
  fs.existsSync('/usr/lib/facegate') ||
  ['/usr/lib/x86_64-linux-gnu/security/pam_facegate.so', '/usr/lib/aarch64-linux-gnu/security/pam_facegate.so'].some((f) => fs.existsSync(f));

test('uninstall.sh keeps PAM backups in /var/backups/facegate and leaves no *.facegate-bak in /etc/pam.d', {
  skip: !asRoot && 'needs root: edits /etc/pam.d',
}, async (t) => {
  // test/deb-clients installs the package meanwhile: wait for it, then look.
  const release = await holdSystemLock();
  try {
    if (installedHere()) return t.skip('facegate is installed on this machine; uninstall.sh would remove it');
    uninstallKeepsBackupsOut();
  } finally {
    await release();
  }
});

function uninstallKeepsBackupsOut(): void {
  const svc = `/etc/pam.d/facegate-uninstall-test-${process.pid}`;
  const stale = `/etc/pam.d/facegate-uninstall-old-${process.pid}.facegate-bak`;
  const backups = '/var/backups/facegate';
  const hadBackups = fs.existsSync(backups);
  const before = hadBackups ? new Set(fs.readdirSync(backups)) : new Set<string>();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-uninst-'));
  const original = 'auth sufficient pam_facegate.so notice\n@include common-auth\n';
  fs.writeFileSync(svc, original);
  fs.writeFileSync(stale, 'left by an older uninstall.sh\n');
  try {
    const r = spawnSync('bash', [path.join(PACKAGE_ROOT, 'scripts', 'uninstall.sh')], {
      encoding: 'utf8',
      env: { ...process.env, FACEGATE_PREFIX: path.join(tmp, 'facegate'), FACEGATE_BIN_DIR: path.join(tmp, 'bin') },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(svc, 'utf8'), '@include common-auth\n');
    assert.deepEqual(
      fs.readdirSync('/etc/pam.d').filter((f) => f.endsWith('.facegate-bak')),
      [],
    );
    const made = fs.readdirSync(backups).filter((f) => !before.has(f));
    assert.equal(made.length, 2, made.join(' '));
    const copy = made.find((f) => f.startsWith(path.basename(svc)));
    assert.ok(copy, `no backup of ${svc}`);
    assert.equal(fs.readFileSync(path.join(backups, copy), 'utf8'), original);
    assert.equal(fs.statSync(backups).mode & 0o777, 0o700);
    for (const f of made) fs.rmSync(path.join(backups, f));
  } finally {
    fs.rmSync(svc, { force: true });
    fs.rmSync(stale, { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!hadBackups) fs.rmSync(backups, { recursive: true, force: true });
  }
}

test('uninstall.sh refuses a bad FACEGATE_PREFIX before touching /etc/pam.d', { skip: !asRoot && 'uninstall.sh stops at its root check first' }, () => {
  const r = spawnSync('bash', [path.join(PACKAGE_ROOT, 'scripts', 'uninstall.sh')], { encoding: 'utf8', env: { ...process.env, FACEGATE_PREFIX: '/' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FACEGATE_PREFIX/);
  assert.match(r.stderr, /nothing was changed/);
});
