import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

// ONNX Runtime has one home (src/models/session.ts): its options, log level and tensor types are set there, so
// a wrapper that imported the runtime itself would escape them.
const IMPORTS_ORT = /from\s+['"]onnxruntime-node['"]|import\(\s*['"]onnxruntime-node['"]\s*\)|require\(\s*['"]onnxruntime-node['"]\s*\)/;

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

test('only src/models/ imports onnxruntime-node', () => {
  const outside = ['src', 'test', 'bench']
    .flatMap((d) => tsFiles(path.join(PACKAGE_ROOT, d)))
    .filter((f) => IMPORTS_ORT.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(PACKAGE_ROOT, f))
    .filter((f) => !f.startsWith(`src${path.sep}models${path.sep}`));
  assert.deepEqual(outside, []);
});
