import fs from 'node:fs/promises';
import { decodeImage } from '../vision/decode.js';
import type { FacePipeline, FaceResult } from '../vision/pipeline.js';
import type { EmbedImage } from './embeddings.js';

/**
 * The dataset's subject is the face nearest the image centre (LFW centres its subject; other detections are
 * bystanders), among the larger faces: a tiny face in the middle of a poster does not win over the subject.
 */
export function subjectFace(faces: readonly FaceResult[], width: number, height: number): FaceResult | undefined {
  let best: FaceResult | undefined;
  let bestCost = Infinity;
  const maxArea = Math.max(0, ...faces.map((f) => f.box.width * f.box.height));
  for (const f of faces) {
    if (f.box.width * f.box.height < 0.25 * maxArea) continue;
    const cx = f.box.x + f.box.width / 2 - width / 2;
    const cy = f.box.y + f.box.height / 2 - height / 2;
    const cost = Math.hypot(cx, cy);
    if (cost < bestCost) {
      bestCost = cost;
      best = f;
    }
  }
  return best;
}

/** Adapts the vision pipeline to the evaluator: path → the subject's embeddings, no face, or unreadable. */
export function pipelineSource(pipeline: FacePipeline, opts: { cropped: boolean }): EmbedImage {
  return async (file) => {
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      return { kind: 'undecodable', error: `cannot read: ${(err as Error).message}` };
    }
    let image;
    try {
      image = await decodeImage(bytes);
    } catch (err) {
      return { kind: 'undecodable', error: (err as Error).message };
    }
    const res = await pipeline.analyze(image, { cropped: opts.cropped, maxFaces: opts.cropped ? 1 : 4 });
    const face = subjectFace(res.faces, res.width, res.height);
    return face ? { kind: 'face', vectors: face.embeddings } : { kind: 'noface' };
  };
}
