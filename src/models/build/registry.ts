import { FACEAPI_BUILDERS } from '../faceapi/index.js';
import { HUMAN_BUILDERS } from '../tfjs/human.js';

/** Converters that turn pinned npm weights into ONNX. Each adds itself here. */
export interface ModelBuilder {
  /** Model id; the file is models/<id>.onnx. */
  readonly id: string;
  /** Human-readable source, e.g. "@vladmandic/human@3.3.6 models/faceres.json". */
  readonly source: string;
  build(cacheDir: string): Promise<Uint8Array>;
}

export const BUILDERS: ModelBuilder[] = [];
BUILDERS.push(...FACEAPI_BUILDERS);
BUILDERS.push(...HUMAN_BUILDERS);
