#!/usr/bin/env node
/**
 * Embeds every image of a dataset once with the shipped settings (the same pipeline and subject choice as
 * `facegate eval`) and writes the unit-length face-api vectors to a JSON file, so that decision rules can be
 * compared many times without running the networks again (bench/attempt-sweep.ts reads these files).
 *
 *   node dist/bench/embed-dump.js --dataset DIR [--cropped] --out FILE.json
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { listDataset } from '../src/eval/dataset.js';
import { EmbeddingCache } from '../src/eval/embeddings.js';
import { modelVectors } from '../src/eval/evaluate.js';
import { pipelineSource } from '../src/eval/pipeline-source.js';
import { FacePipeline } from '../src/vision/pipeline.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    cropped: { type: 'boolean', default: false },
    out: { type: 'string' },
    model: { type: 'string', default: 'face-api' },
  },
});
if (!args.dataset || !args.out) throw new Error('--dataset DIR and --out FILE are required');
const ds = listDataset(args.dataset);
const pipeline = await FacePipeline.load({ embedders: [args.model!], landmarker: '68', flipTTA: true });
try {
  const cache = new EmbeddingCache(pipelineSource(pipeline, { cropped: args.cropped! }));
  const outcomes = [];
  for (const [i, img] of ds.images.entries()) {
    outcomes.push(await cache.get(img.path));
    if (i % 100 === 0) process.stderr.write(`${i}/${ds.images.length}\n`);
  }
  const vec = modelVectors(outcomes, args.model!);
  const doc = {
    dataset: args.dataset,
    model: args.model,
    model_sha256: pipeline.embedders[0]?.modelSha256 ?? null,
    images: ds.images.map((im, i) => ({ rel: im.rel, identity: ds.identities[im.identity]!.name, vector: vec[i] ? Array.from(vec[i]!) : null })),
  };
  fs.writeFileSync(args.out, JSON.stringify(doc));
} finally {
  await pipeline.close();
}
