/** ModelBuilders for face-api's networks: pinned manifest + shard -> dequantised weights -> ONNX graph. */
import { loadSources } from '../build/fetch.js';
import type { ModelBuilder } from '../build/registry.js';
import { FACEAPI_PKG } from '../sources.js';
import { buildLandmark68Graph } from './landmark68.js';
import { buildRecognitionGraph } from './recognition.js';
import { decodeWeights, type WeightMap } from './weights.js';

/**
 * Loads one face-api net's verified manifest and shard. The manifest names its shard by file name; we map that
 * name to the pinned file so a manifest pointing elsewhere fails instead of reading an unpinned file.
 */
export function loadFaceApiWeights(net: 'recognition' | 'landmark68', cacheDir: string): WeightMap {
  const files = loadSources(FACEAPI_PKG, cacheDir);
  const manifest = files[`${net}.manifest`];
  const bin = files[`${net}.bin`];
  const binPath = FACEAPI_PKG.files[`${net}.bin`]?.path;
  if (!manifest || !bin || !binPath) throw new Error(`${FACEAPI_PKG.name}: ${net} is not in the pinned sources`);
  const shardName = binPath.slice(binPath.lastIndexOf('/') + 1);
  return decodeWeights(`${FACEAPI_PKG.name} ${net}`, manifest.toString('utf8'), { [shardName]: bin });
}

const source = (net: string): string => `${FACEAPI_PKG.name}@${FACEAPI_PKG.version} model/${net}`;

export const FACEAPI_BUILDERS: ModelBuilder[] = [
  {
    id: 'faceapi-recognition',
    source: source('face_recognition_model'),
    build: async (cacheDir) => buildRecognitionGraph(loadFaceApiWeights('recognition', cacheDir)),
  },
  {
    id: 'faceapi-landmark68',
    source: source('face_landmark_68_model'),
    build: async (cacheDir) => buildLandmark68Graph(loadFaceApiWeights('landmark68', cacheDir)),
  },
];
