/**
 * ModelBuilders for the tfjs graph models shipped in @vladmandic/human (pinned in sources.ts). Human's
 * mobilefacenet.json is deliberately absent: as shipped it maps every face to nearly the same vector.
 */
import { HUMAN_PKG } from '../sources.js';
import { loadSources } from '../build/fetch.js';
import type { ModelBuilder } from '../build/registry.js';
import { convertTfjsGraph } from './convert.js';

export const HUMAN_MODELS = ['faceres', 'antispoof', 'liveness', 'facemesh', 'iris'] as const;
export type HumanModel = (typeof HUMAN_MODELS)[number];

/** Converts one pinned Human model (digests verified by loadSources) to ONNX bytes. */
export function convertHumanModel(model: HumanModel, cacheDir: string): Uint8Array {
  const files = loadSources(HUMAN_PKG, cacheDir);
  const json = files[`${model}.json`];
  if (!json) throw new Error(`${HUMAN_PKG.name}: ${model}.json is not pinned in sources.ts`);
  const read = (p: string): Uint8Array => {
    const data = files[p];
    if (!data) throw new Error(`${model}.json names weight file ${p}, which is not pinned in sources.ts`);
    return data;
  };
  return convertTfjsGraph(json, read, { name: `human-${model}` }).onnx;
}

export const HUMAN_BUILDERS: ModelBuilder[] = HUMAN_MODELS.map((model) => ({
  id: `human-${model}`,
  source: `${HUMAN_PKG.name}@${HUMAN_PKG.version} models/${model}.json`,
  build: async (cacheDir: string) => convertHumanModel(model, cacheDir),
}));
