import { fileURLToPath } from 'node:url';
import path from 'node:path';

// Compiled files live in dist/src/**, so the package root is three levels above this module.
export const PACKAGE_ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Where converted ONNX models live. Overridable so an installed daemon can use /usr/lib/facegate/models. */
export function modelsDir(): string {
  return process.env.FACEGATE_MODEL_DIR ?? path.join(PACKAGE_ROOT, 'models');
}

/** The shared datasets sit beside the project checkout, never inside it. */
export function datasetsDir(): string {
  return process.env.FACEGATE_DATASETS ?? path.resolve(PACKAGE_ROOT, '..', 'shared', 'datasets');
}
