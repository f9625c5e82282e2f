import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import os from 'node:os';
import { decodeWeights, parseManifest, take } from '../src/models/faceapi/weights.js';
import { loadSources } from '../src/models/build/fetch.js';
import { FACEAPI_PKG } from '../src/models/sources.js';

const manifest = (weights: unknown[], paths = ['w.bin']): string => JSON.stringify([{ paths, weights }]);

test('uint8 quantised weights decode as q * scale + min', () => {
  const m = manifest([{ name: 'a', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } }]);
  const w = decodeWeights('t', m, { 'w.bin': Uint8Array.from([0, 1, 2, 255]) });
  assert.deepEqual(Array.from(w.get('a')!.data), [-1, -0.5, 0, 126.5]);
  assert.deepEqual(w.get('a')!.shape, [2, 2]);
});

test('uint16, float16 and plain float32 weights decode, packed one after another across shards', () => {
  const f32 = new Float32Array([1.5, -2.25]);
  const bytes = new Uint8Array(4 + 4 + 8);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 3, true);
  view.setUint16(2, 65535, true);
  view.setUint16(4, 0x3c00, true); // 1.0
  view.setUint16(6, 0xc100, true); // -2.5
  bytes.set(new Uint8Array(f32.buffer), 8);
  const m = manifest(
    [
      { name: 'u16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 1 } },
      { name: 'f16', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'f32', shape: [2], dtype: 'float32' },
    ],
    ['a.bin', 'b.bin'],
  );
  const w = decodeWeights('t', m, { 'a.bin': bytes.subarray(0, 5), 'b.bin': bytes.subarray(5) });
  assert.deepEqual(Array.from(w.get('u16')!.data), [1.75, 65535 * 0.25 + 1]);
  assert.deepEqual(Array.from(w.get('f16')!.data), [1, -2.5]);
  assert.deepEqual(Array.from(w.get('f32')!.data), [1.5, -2.25]);
});

test('malformed manifests and shards fail with a clear error', () => {
  const ok = { name: 'a', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } };
  const two = Uint8Array.from([1, 2]);
  assert.throws(() => decodeWeights('t', '{not json', {}), /t: manifest is not JSON/);
  assert.throws(() => parseManifest('t', '[]'), /non-empty list/);
  assert.throws(() => decodeWeights('t', manifest([ok]), {}), /shard w.bin named by the manifest was not supplied/);
  assert.throws(() => decodeWeights('t', manifest([ok]), { 'w.bin': Uint8Array.from([1]) }), /weight a runs past the end/);
  assert.throws(() => decodeWeights('t', manifest([ok]), { 'w.bin': Uint8Array.from([1, 2, 3]) }), /1 bytes of shard data are not described/);
  assert.throws(() => decodeWeights('t', manifest([ok, ok]), { 'w.bin': Uint8Array.from([1, 2, 3, 4]) }), /weight a appears twice/);
  assert.throws(() => decodeWeights('t', manifest([{ ...ok, dtype: 'int32' }]), { 'w.bin': two }), /unsupported dtype "int32"/);
  assert.throws(() => decodeWeights('t', manifest([{ ...ok, shape: [2, -1] }]), { 'w.bin': two }), /bad shape/);
  assert.throws(
    () => decodeWeights('t', manifest([{ ...ok, quantization: { dtype: 'int4', scale: 1, min: 0 } }]), { 'w.bin': two }),
    /unsupported quantization dtype "int4"/,
  );
  assert.throws(
    () => decodeWeights('t', manifest([{ ...ok, quantization: { dtype: 'uint8', scale: 'x', min: 0 } }]), { 'w.bin': two }),
    /needs finite scale and min/,
  );
  const w = decodeWeights('t', manifest([ok]), { 'w.bin': two });
  assert.throws(() => take(w, 'a', [1, 2]), /weight a has shape \[2\], expected \[1,2\]/);
  assert.throws(() => take(w, 'b', [2]), /weight b is missing/);
});

test('a weight file whose SHA-256 differs from the pin is refused', () => {
  const bad = {
    ...FACEAPI_PKG,
    files: { 'recognition.manifest': { path: FACEAPI_PKG.files['recognition.manifest']!.path, sha256: '0'.repeat(64) } },
  };
  assert.throws(() => loadSources(bad, os.tmpdir()), /SHA-256 [0-9a-f]{64} does not match the pinned 0{64}; refusing to build from it/);
});

test('the pinned face-api weights decode exactly as tfjs decodes them', () => {
  interface TfIo {
    io: { decodeWeights(buf: ArrayBuffer, specs: unknown[]): Record<string, { dataSync(): Float32Array }> };
  }
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as TfIo;
  require('@tensorflow/tfjs-backend-cpu'); // decodeWeights makes tensors, which need a backend
  const files = loadSources(FACEAPI_PKG, os.tmpdir());
  for (const net of ['recognition', 'landmark68'] as const) {
    const json = files[`${net}.manifest`]!.toString('utf8');
    const bin = files[`${net}.bin`]!;
    const groups = JSON.parse(json) as { paths: string[]; weights: unknown[] }[];
    const ours = decodeWeights(net, json, { [groups[0]!.paths[0]!]: bin });
    const ab = new Uint8Array(bin).buffer;
    const theirs = tf.io.decodeWeights(ab, groups[0]!.weights);
    assert.equal(ours.size, Object.keys(theirs).length);
    for (const [name, w] of ours) assert.deepEqual(w.data, theirs[name]!.dataSync(), name);
  }
});

test('the ONNX conversion is reproducible byte for byte (templates pin the model digest)', async () => {
  const { FACEAPI_BUILDERS } = await import('../src/models/faceapi/index.js');
  const { sha256 } = await import('../src/models/build/fetch.js');
  for (const b of FACEAPI_BUILDERS) {
    assert.equal(sha256(await b.build(os.tmpdir())), sha256(await b.build(os.tmpdir())), b.id);
  }
});
