import { l2normalize, meanDirection } from '../match/similarity.js';
import { flipHorizontal } from '../vision/align.js';
import type { RawImage } from '../vision/types.js';
import type { Embedder } from './embedder.js';

/**
 * The unit-length probe embedding of one aligned chip, as every path builds it: the daemon and `facegate test`
 * (src/auth/vision-engine.ts), eval and calibration (src/vision/pipeline.ts). The shipped thresholds hold only
 * for probes made the way the calibration measured them, so there is exactly one way.
 *
 * With `flip`, the chip and its mirror image are embedded (one batched run where the embedder supports it) and
 * their unit vectors averaged into one unit vector. A zero or non-finite embedding is an error, never a match.
 */
export async function probeEmbedding(embedder: Embedder, chip: RawImage, flip: boolean): Promise<Float32Array> {
  if (!flip) return l2normalize(await embedder.embed(chip));
  const mirror = flipHorizontal(chip);
  const [a, b] = embedder.embedBatch ? await embedder.embedBatch([chip, mirror]) : [await embedder.embed(chip), await embedder.embed(mirror)];
  if (!a || !b) throw new Error(`embedder ${embedder.id} returned fewer embeddings than chips`);
  return meanDirection([a, b]);
}
