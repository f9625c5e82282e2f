#!/usr/bin/env node
// Builds every native addon under native/<name>/binding.gyp with node-gyp (npm's bundled copy when run from
// an npm script), so each addon stays a small self-contained folder.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
for (const name of fs.existsSync(nativeDir) ? fs.readdirSync(nativeDir).sort() : []) {
  const dir = path.join(nativeDir, name);
  if (!fs.existsSync(path.join(dir, 'binding.gyp'))) continue;
  console.log(`native: building ${name}`);
  execFileSync('node-gyp', ['rebuild', '--release', '--silent'], { cwd: dir, stdio: 'inherit' });
}
