import type { Embedder } from '../embed/embedder.js';
import type { SessionOptions } from '../models/session.js';
import type { Landmarker } from './landmarker.js';

/**
 * Embedders and landmarkers by id. Each entry imports its module on demand, so a process loads only the models
 * it asks for; an unknown id is a clear error.
 */
const EMBEDDERS: Readonly<Record<string, (opts: SessionOptions) => Promise<Embedder>>> = {
  'face-api': async (opts) => (await import('../embed/facerecnet.js')).FaceRecNetEmbedder.load(opts),
  faceres: async (opts) => (await import('../embed/faceres.js')).FaceresEmbedder.load(opts),
};

const LANDMARKERS: Readonly<Record<string, (opts: SessionOptions) => Promise<Landmarker>>> = {
  '68': async (opts) => (await import('./landmarks68.js')).FaceApiLandmarker.load(opts),
  // FaceMesh's 468 points mapped to iBUG-68 order, so it aligns with dlib's template like the 68-point net.
  facemesh: async (opts) => (await import('./facemesh.js')).FaceMesh68Landmarker.load(opts),
};

function entry<T>(table: Readonly<Record<string, T>>, kind: string, id: string): T {
  // Own keys only: "constructor" or "__proto__" from a config file is an unknown id, not Object's.
  const f = Object.hasOwn(table, id) ? table[id] : undefined;
  if (!f) throw new Error(`unknown ${kind} "${id}"`);
  return f;
}

export function loadEmbedder(id: string, opts: SessionOptions = {}): Promise<Embedder> {
  return Promise.resolve().then(() => entry(EMBEDDERS, 'embedder', id)(opts));
}

export function loadLandmarker(id: string, opts: SessionOptions = {}): Promise<Landmarker> {
  return Promise.resolve().then(() => entry(LANDMARKERS, 'landmarker', id)(opts));
}
