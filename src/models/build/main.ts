#!/usr/bin/env node
/**
 * Builds every model facegate runs into models/: verifies the pinned npm weights, converts them to ONNX and
 * writes models/manifest.json with each built file's SHA-256 (templates record it, so a model change forces
 * re-enrolment). Runs at install time; nothing is downloaded when facegate runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { modelsDir, PACKAGE_ROOT } from '../../paths.js';
import { loadSources, sha256 } from './fetch.js';
import { BLAZEFACE_PKG } from '../sources.js';
import { BUILDERS } from './registry.js';

export interface BuiltModel {
  file: string;
  sha256: string;
  source: string;
}

async function main(): Promise<void> {
  const outDir = modelsDir();
  const cacheDir = path.join(PACKAGE_ROOT, '.cache', 'packages');
  fs.mkdirSync(outDir, { recursive: true });
  const only = process.argv.slice(2);
  const manifestPath = path.join(outDir, 'manifest.json');
  const manifest: Record<string, BuiltModel> = fs.existsSync(manifestPath)
    ? (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Record<string, BuiltModel>)
    : {};

  const write = (id: string, bytes: Uint8Array, source: string): void => {
    const file = `${id}.onnx`;
    const tmp = path.join(outDir, `.${file}.tmp`);
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path.join(outDir, file));
    manifest[id] = { file, sha256: sha256(bytes), source };
    console.log(`model ${id}: ${(bytes.length / 1e6).toFixed(1)} MB from ${source}`);
  };

  if (only.length === 0 || only.includes('blazeface')) {
    const bf = loadSources(BLAZEFACE_PKG, cacheDir);
    const src = `${BLAZEFACE_PKG.name}@${BLAZEFACE_PKG.version}`;
    write('blazeface-front', bf.front as Buffer, src);
    write('blazeface-back', bf.back as Buffer, src);
  }
  for (const b of BUILDERS) {
    if (only.length > 0 && !only.includes(b.id)) continue;
    write(b.id, await b.build(cacheDir), b.source);
  }
  fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(`build-models: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
