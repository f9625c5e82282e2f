import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

for (const name of ['install.sh', 'uninstall.sh']) {
  const file = path.join(PACKAGE_ROOT, 'scripts', name);
  test(`${name} parses, is executable and refuses to run without root`, () => {
    assert.ok((fs.statSync(file).mode & 0o111) !== 0, 'executable');
    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    if (process.getuid?.() === 0) {
      // As nobody it must stop at the root check, before touching anything.
      // The script goes in on stdin, so it runs even where nobody cannot read the checkout.
      const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', '-s'], { encoding: 'utf8', cwd: '/', input: fs.readFileSync(file) });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /run as root/);
    }
  });
}

test('README keeps exactly two set-up commands: the installer and the tests', () => {
  const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('\n## ', readme.indexOf('## Set up') + 1));
  const commands = setup.split('\n').filter((l) => l.startsWith('    '));
  assert.deepEqual(commands.map((l) => l.trim()), ['sudo ./scripts/install.sh', './scripts/setup-dev.sh && npm test']);
});
