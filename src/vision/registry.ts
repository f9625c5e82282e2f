import type { Embedder } from '../embed/embedder.js';
import type { Landmarker } from './landmarker.js';

/**
 * Where each embedder and landmarker lives. Modules are imported on demand, so the pipeline builds and runs with
 * whichever of them exist; asking for a missing one is a clear error, not a crash at start-up.
 */
export interface LoadOptions {
  intraOpThreads?: number;
}

/** Module, and optionally the exported class whose static `load` builds it (else the module's `load`). */
type Entry = readonly [module: string, exportName?: string];

const EMBEDDER_MODULES: Record<string, Entry> = {
  'face-api': ['../embed/facerecnet.js'],
  faceres: ['../embed/faceres.js'],
};

const LANDMARKER_MODULES: Record<string, Entry> = {
  '68': ['./landmarks68.js'],
  // FaceMesh's 468 points mapped to iBUG-68 order, so it aligns with dlib's template like the 68-point net.
  facemesh: ['./facemesh.js', 'FaceMesh68Landmarker'],
};

export const EMBEDDER_IDS = Object.keys(EMBEDDER_MODULES);
export const LANDMARKER_IDS = ['blazeface', ...Object.keys(LANDMARKER_MODULES)];

type Factory = (opts: LoadOptions) => Promise<unknown>;

/**
 * Finds how a module builds its model: an exported `load`/`create` function, or an exported class with a static
 * `load`/`create` (the conventions our model modules use).
 */
function findFactory(mod: Record<string, unknown>, exportName?: string): Factory | undefined {
  if (exportName) {
    const cls = mod[exportName] as Record<string, unknown> | undefined;
    const f = cls?.['load'];
    return typeof f === 'function' ? (opts) => (f as Factory).call(cls, opts) : undefined;
  }
  for (const name of ['load', 'create']) {
    const f = mod[name];
    if (typeof f === 'function') return f as Factory;
  }
  for (const v of Object.values(mod)) {
    if (typeof v !== 'function') continue;
    const cls = v as unknown as Record<string, unknown>;
    for (const name of ['load', 'create']) {
      const f = cls[name];
      if (typeof f === 'function') return (opts) => (f as Factory).call(v, opts);
    }
  }
  return undefined;
}

async function importModule(kind: string, id: string, entry: Entry | undefined): Promise<Record<string, unknown>> {
  if (!entry) throw new Error(`unknown ${kind} "${id}"`);
  const spec = entry[0];
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new Error(`${kind} "${id}" is not available in this build (${spec} missing)`);
    throw err;
  }
}

function isEmbedder(x: unknown): x is Embedder {
  const e = x as Partial<Embedder> | null;
  return (
    !!e &&
    typeof e.id === 'string' &&
    typeof e.dim === 'number' &&
    typeof e.embed === 'function' &&
    typeof e.close === 'function' &&
    !!e.chip &&
    typeof e.chip.size === 'number' &&
    typeof e.chip.padding === 'number'
  );
}

function isLandmarker(x: unknown): x is Landmarker {
  const l = x as Partial<Landmarker> | null;
  return !!l && typeof l.id === 'string' && typeof l.count === 'number' && typeof l.detect === 'function' && typeof l.close === 'function';
}

export async function loadEmbedder(id: string, opts: LoadOptions = {}): Promise<Embedder> {
  const mod = await importModule('embedder', id, EMBEDDER_MODULES[id]);
  const factory = findFactory(mod, EMBEDDER_MODULES[id]![1]);
  if (!factory) throw new Error(`embedder "${id}": module exports no load()/create()`);
  const e = await factory(opts);
  if (!isEmbedder(e)) throw new Error(`embedder "${id}": loader did not return an Embedder`);
  return e;
}

export async function loadLandmarker(id: string, opts: LoadOptions = {}): Promise<Landmarker> {
  const mod = await importModule('landmarker', id, LANDMARKER_MODULES[id]);
  const factory = findFactory(mod, LANDMARKER_MODULES[id]![1]);
  if (!factory) throw new Error(`landmarker "${id}": module exports no load()/create()`);
  const l = await factory(opts);
  if (!isLandmarker(l)) throw new Error(`landmarker "${id}": loader did not return a Landmarker`);
  return l;
}
