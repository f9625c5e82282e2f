import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFloat16, decodeWeights, halfToFloatSlow } from '../src/models/tfjs/weights.js';
import { windowPads } from '../src/models/tfjs/padding.js';
import { convertTfjsGraph, permute } from '../src/models/tfjs/convert.js';
import { parseModelJson } from '../src/models/tfjs/modeljson.js';
import { LoadedModel } from '../src/models/session.js';
import { loadReference, runReference } from './helpers/tfjs-reference.js';

test('float16 decoding covers normals, subnormals, zeros, infinities and NaN', () => {
  const halves = [0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x3555, 0x7e00];
  const bytes = new Uint8Array(halves.flatMap((h) => [h & 0xff, h >> 8]));
  const f = decodeFloat16(bytes);
  assert.equal(f[0], 1);
  assert.equal(f[1], -2);
  assert.equal(f[2], 65504);
  assert.equal(f[3], 2 ** -14);
  assert.equal(f[4], 2 ** -24);
  assert.equal(f[5], 1023 * 2 ** -24);
  assert.ok(Object.is(f[6], 0));
  assert.ok(Object.is(f[7], -0));
  assert.equal(f[8], Infinity);
  assert.equal(f[9], -Infinity);
  assert.ok(Math.abs((f[10] as number) - 1 / 3) < 1e-3);
  assert.ok(Number.isNaN(f[11]));
  assert.equal(halfToFloatSlow(0x3c01), 1 + 2 ** -10);
  assert.throws(() => decodeFloat16(new Uint8Array(3)), /odd byte count/);
});

test('weights decode float32, float16, uint8/uint16 affine and int32 back to back; sizes are checked', () => {
  const buf = Buffer.alloc(4 * 2 + 2 * 2 + 3 + 2 * 2 + 4);
  let o = 0;
  o = buf.writeFloatLE(1.5, o);
  o = buf.writeFloatLE(-3, o);
  o = buf.writeUInt16LE(0x3c00, o);
  o = buf.writeUInt16LE(0xc000, o);
  o = buf.writeUInt8(0, o);
  o = buf.writeUInt8(10, o);
  o = buf.writeUInt8(255, o);
  o = buf.writeUInt16LE(0, o);
  o = buf.writeUInt16LE(2, o);
  buf.writeInt32LE(-7, o);
  const manifest = [
    {
      paths: ['a.bin'],
      weights: [
        { name: 'f32', shape: [2], dtype: 'float32' as const },
        { name: 'f16', shape: [2], dtype: 'float32' as const, quantization: { dtype: 'float16' as const } },
        { name: 'u8', shape: [3], dtype: 'float32' as const, quantization: { dtype: 'uint8' as const, scale: 0.5, min: -1 } },
        { name: 'u16', shape: [2], dtype: 'int32' as const, quantization: { dtype: 'uint16' as const, scale: 1.5, min: 1 } },
        { name: 'i32', shape: [], dtype: 'int32' as const },
      ],
    },
  ];
  const w = decodeWeights(manifest, () => buf);
  assert.deepEqual(Array.from(w.get('f32')!.data), [1.5, -3]);
  assert.deepEqual(Array.from(w.get('f16')!.data), [1, -2]);
  assert.deepEqual(Array.from(w.get('u8')!.data), [-1, 4, 126.5]);
  assert.deepEqual(Array.from(w.get('u16')!.data), [1, 4]);
  assert.equal(w.get('u16')!.dtype, 'int32');
  assert.deepEqual(Array.from(w.get('i32')!.data), [-7]);
  assert.throws(() => decodeWeights(manifest, () => buf.subarray(0, 10)), /needs bytes/);
  assert.throws(() => decodeWeights(manifest, () => Buffer.concat([buf, Buffer.alloc(1)])), /trailing bytes/);
});

test('TF SAME padding: odd totals pad the end; VALID drops the remainder', () => {
  assert.deepEqual(windowPads(224, 3, 2, 1, 'SAME'), { out: 112, begin: 0, end: 1 });
  assert.deepEqual(windowPads(225, 3, 2, 1, 'SAME'), { out: 113, begin: 1, end: 1 });
  assert.deepEqual(windowPads(112, 3, 1, 1, 'SAME'), { out: 112, begin: 1, end: 1 });
  assert.deepEqual(windowPads(8, 5, 2, 1, 'SAME'), { out: 4, begin: 1, end: 2 });
  assert.deepEqual(windowPads(7, 2, 2, 1, 'SAME'), { out: 4, begin: 0, end: 1 });
  assert.deepEqual(windowPads(8, 2, 2, 1, 'SAME'), { out: 4, begin: 0, end: 0 });
  assert.deepEqual(windowPads(10, 3, 1, 2, 'SAME'), { out: 10, begin: 2, end: 2 });
  assert.deepEqual(windowPads(7, 2, 2, 1, 'VALID'), { out: 3, begin: 0, end: 0 });
  assert.deepEqual(windowPads(128, 3, 1, 1, 'VALID'), { out: 126, begin: 0, end: 0 });
  assert.throws(() => windowPads(2, 3, 1, 1, 'VALID'), /does not fit/);
});

test('permute transposes like numpy', () => {
  const x = Float32Array.from([0, 1, 2, 3, 4, 5]); // shape [2, 3]
  assert.deepEqual(Array.from(permute(x, [2, 3], [1, 0])), [0, 3, 1, 4, 2, 5]);
  const y = Float32Array.from({ length: 24 }, (_, i) => i); // [2,3,4] -> [4,2,3]
  const p = permute(y, [2, 3, 4], [2, 0, 1]);
  assert.equal(p[1], 4); // [0][0][1] = y[0][1][0]
  assert.equal(p[6], 1); // [1][0][0] = y[0][0][1]
});

/** A small graph model exercising asymmetric SAME padding, depthwise, pooling, padding, reshape and matmul. */
function tinyModel(): { json: string; bin: Uint8Array } {
  const enc = (s: string): string => Buffer.from(s).toString('base64');
  const list = (...i: number[]): { list: { i: string[] } } => ({ list: { i: i.map(String) } });
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const weights: { name: string; shape: number[]; dtype: string; quantization?: object; bytes: Buffer }[] = [];
  const f32 = (name: string, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) b.writeFloatLE(rand(), 4 * i);
    weights.push({ name, shape, dtype: 'float32', bytes: b });
  };
  const f16 = (name: string, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = Buffer.alloc(2 * n);
    // Halves with exponent 13..14 (values 0.25..1) and random sign/mantissa.
    for (let i = 0; i < n; i++) b.writeUInt16LE(((rand() > 0 ? 0x8000 : 0) | ((13 + (i % 2)) << 10) | Math.floor((rand() + 0.5) * 1023)) & 0xffff, 2 * i);
    weights.push({ name, shape, dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' }, bytes: b });
  };
  const i32 = (name: string, values: number[], shape: number[]): void => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => {
      b.writeInt32LE(v, 4 * i);
    });
    weights.push({ name, shape, dtype: 'int32', bytes: b });
  };
  f16('w1', [3, 3, 3, 4]);
  f32('b1', [4]);
  f32('alpha', [4]);
  f32('dw', [3, 3, 4, 2]);
  f32('scale', [1, 1, 1, 8]);
  i32('pads', [0, 0, 1, 2, 0, 1, 0, 2], [4, 2]);
  f32('w2', [1, 1, 10, 6]);
  i32('axes', [1, 2], [2]);
  i32('shape', [-1, 72], [2]);
  f32('fc', [72, 5]);
  f32('fcb', [5]);
  const scalar = (name: string, v: number): void => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    weights.push({ name, shape: [], dtype: 'float32', bytes: b });
  };
  scalar('hi', 0.3);
  scalar('lo', -0.2);
  const nodes = [
    {
      name: 'x',
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '9' }, { size: '3' }] } } },
    },
    ...weights.map((w) => ({ name: w.name, op: 'Const', attr: { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } })),
    {
      name: 'c1',
      op: '_FusedConv2D',
      input: ['x', 'w1', 'b1', 'alpha'],
      attr: {
        strides: list(1, 2, 2, 1),
        padding: { s: enc('SAME') },
        data_format: { s: enc('NHWC') },
        dilations: list(1, 1, 1, 1),
        fused_ops: { list: { s: [enc('BiasAdd'), enc('Prelu')] } },
        num_args: { i: '2' },
      },
    },
    {
      name: 'd1',
      op: 'DepthwiseConv2dNative',
      input: ['c1', 'dw'],
      attr: { strides: list(1, 2, 2, 1), padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') }, dilations: list(1, 1, 1, 1) },
    },
    { name: 'm1', op: 'Mul', input: ['d1', 'scale'], attr: {} },
    { name: 'r6', op: 'Relu6', input: ['m1'], attr: {} },
    {
      name: 'mp',
      op: 'MaxPool',
      input: ['r6'],
      attr: { ksize: list(1, 3, 3, 1), strides: list(1, 2, 2, 1), padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') } },
    },
    // Spatial and channel padding (as facemesh's channel_padding). Not before a MaxPool: ORT's optimiser folds
    // a zero Pad into the pool's pads and then rejects pads >= kernel.
    { name: 'p1', op: 'Pad', input: ['mp', 'pads'], attr: {} },
    {
      name: 'c2',
      op: 'Conv2D',
      input: ['p1', 'w2'],
      attr: { strides: list(1, 1, 1, 1), padding: { s: enc('VALID') }, data_format: { s: enc('NHWC') }, dilations: list(1, 1, 1, 1) },
    },
    // ReLU6-style clamp as TF exports it (Minimum then Maximum by scalars): becomes one Clip.
    { name: 'mn', op: 'Minimum', input: ['c2', 'hi'], attr: {} },
    { name: 'mx', op: 'Maximum', input: ['lo', 'mn'], attr: {} },
    {
      name: 'ap',
      op: 'AvgPool',
      input: ['mx'],
      attr: { ksize: list(1, 2, 2, 1), strides: list(1, 1, 1, 1), padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') } },
    },
    { name: 'mean', op: 'Mean', input: ['ap', 'axes'], attr: { keep_dims: { b: false } } },
    { name: 'flat', op: 'Reshape', input: ['ap', 'shape'], attr: {} },
    {
      name: 'fc1',
      op: '_FusedMatMul',
      input: ['flat', 'fc', 'fcb'],
      attr: { fused_ops: { list: { s: [enc('BiasAdd')] } }, num_args: { i: '1' }, transpose_a: { b: false }, transpose_b: { b: false } },
    },
    { name: 'sm', op: 'Softmax', input: ['fc1'], attr: {} },
  ];
  const doc = {
    format: 'graph-model',
    signature: { inputs: { x: { name: 'x:0' } }, outputs: { probs: { name: 'sm:0' }, pooled: { name: 'mean' }, map: { name: 'ap:0' } } },
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['tiny.bin'], weights: weights.map(({ bytes: _b, ...w }) => w) }],
  };
  return { json: JSON.stringify(doc), bin: Buffer.concat(weights.map((w) => w.bytes)) };
}

test('a small graph with asymmetric SAME padding converts and matches TensorFlow.js', async () => {
  const { json, bin } = tinyModel();
  const read = (): Uint8Array => bin;
  const res = convertTfjsGraph(json, read);
  // SAME with stride 2 on even sizes pads only the end; check the emitted pads rather than trusting auto_pad.
  assert.deepEqual(
    res.outputs.map((o) => o.name),
    ['probs', 'pooled', 'map'],
  );
  const session = await LoadedModel.fromBytes('t', res.onnx);
  const ref = await loadReference(json, read);
  const n = 8 * 9 * 3;
  for (const batch of [1, 2]) {
    const x = Float32Array.from({ length: batch * n }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.7));
    const shape = [batch, 8, 9, 3];
    const [probs, pooled, map] = await runReference(ref, x, shape, ['sm', 'mean', 'ap']);
    const out = await session.run({ x: { data: x, dims: shape } });
    for (const [k, r] of [
      ['probs', probs],
      ['pooled', pooled],
      ['map', map],
    ] as const) {
      const o = out[k]?.data as Float32Array;
      assert.equal(o.length, (r as Float32Array).length, k);
      for (let i = 0; i < o.length; i++) assert.ok(Math.abs((o[i] as number) - ((r as Float32Array)[i] as number)) < 1e-5, `${k}[${i}] batch ${batch}`);
    }
  }
  ref.dispose();
  await session.release();
});

/** A second small graph for the layout-sensitive ops: resize, concat, keep-dims mean, slices, transpose, reshape. */
function layoutModel(): { json: string; bin: Uint8Array } {
  const enc = (v: string): string => Buffer.from(v).toString('base64');
  const list = (...i: number[]): { list: { i: string[] } } => ({ list: { i: i.map(String) } });
  let seed = 99;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const weights: { name: string; shape: number[]; dtype: string; bytes: Buffer }[] = [];
  const f32 = (name: string, shape: number[], fill?: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) b.writeFloatLE(fill ? (fill[i] as number) : rand(), 4 * i);
    weights.push({ name, shape, dtype: 'float32', bytes: b });
  };
  const i32 = (name: string, values: number[], shape: number[] = [values.length]): void => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => {
      b.writeInt32LE(v, 4 * i);
    });
    weights.push({ name, shape, dtype: 'int32', bytes: b });
  };
  i32('size', [9, 7]);
  f32('dwf', [3, 3, 4, 1]);
  f32('dwb', [4]);
  i32('axis', [-1], []);
  f32('b8', [8]);
  i32('hw', [1, 2]);
  i32('begin', [0, 1, 0, 0]);
  i32('end', [0, 4, 4, 8]);
  i32('strides', [1, 2, 1, 1]);
  i32('perm', [0, 3, 1, 2]);
  f32('eps', [], [0.5]);
  i32('flat', [-1, 64]);
  f32('w', [10, 64]);
  i32('one', [1], []);
  const dims = { shape: { shape: { dim: [{ size: '-1' }, { size: '6' }, { size: '5' }, { size: '4' }] } } };
  const nhwc = { data_format: { s: enc('NHWC') } };
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, ...dims } },
    ...weights.map((w) => ({ name: w.name, op: 'Const', attr: { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } })),
    { name: 'rs', op: 'ResizeBilinear', input: ['x', 'size'], attr: { align_corners: { b: false }, half_pixel_centers: { b: true } } },
    {
      name: 'dw',
      op: 'FusedDepthwiseConv2dNative',
      input: ['rs', 'dwf', 'dwb'],
      attr: {
        strides: list(1, 2, 2, 1),
        padding: { s: enc('SAME') },
        ...nhwc,
        dilations: list(1, 1, 1, 1),
        fused_ops: { list: { s: [enc('BiasAdd'), enc('Relu6')] } },
        num_args: { i: '1' },
      },
    },
    { name: 'th', op: 'Tanh', input: ['dw'], attr: {} },
    { name: 'cc', op: 'ConcatV2', input: ['dw', 'th', 'axis'], attr: { N: { i: '2' } } },
    { name: 'ba', op: 'BiasAdd', input: ['cc', 'b8'], attr: nhwc },
    { name: 'lr', op: 'LeakyRelu', input: ['ba'], attr: { alpha: { f: 0.1 } } },
    { name: 'mk', op: 'Mean', input: ['lr', 'hw'], attr: { keep_dims: { b: true } } },
    { name: 'sub', op: 'Sub', input: ['lr', 'mk'], attr: {} },
    { name: 'sq', op: 'Square', input: ['sub'], attr: {} },
    {
      name: 'ss',
      op: 'StridedSlice',
      input: ['sq', 'begin', 'end', 'strides'],
      attr: { begin_mask: { i: '1' }, end_mask: { i: '1' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } },
    },
    { name: 'tr', op: 'Transpose', input: ['ss', 'perm'], attr: {} },
    { name: 'ad', op: 'AddV2', input: ['tr', 'eps'], attr: {} },
    { name: 'rq', op: 'Rsqrt', input: ['ad'], attr: {} },
    { name: 'rd', op: 'RealDiv', input: ['tr', 'rq'], attr: {} },
    { name: 'rsh', op: 'Reshape', input: ['rd', 'flat'], attr: {} },
    { name: 'mm', op: 'MatMul', input: ['rsh', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: true } } },
    { name: 'ex', op: 'ExpandDims', input: ['mm', 'one'], attr: {} },
    { name: 'sqz', op: 'Squeeze', input: ['ex'], attr: { squeeze_dims: list(1) } },
    { name: 'sg', op: 'Sigmoid', input: ['sqz'], attr: {} },
  ];
  const doc = {
    format: 'graph-model',
    signature: { outputs: { out: { name: 'sg:0' }, slice: { name: 'ss:0' }, resized: { name: 'rs:0' } } },
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['l.bin'], weights: weights.map(({ bytes: _b, ...w }) => w) }],
  };
  return { json: JSON.stringify(doc), bin: Buffer.concat(weights.map((w) => w.bytes)) };
}

test('resize, concat, keep-dims mean, strided slice, transpose, reshape and squeeze match TensorFlow.js', async () => {
  const { json, bin } = layoutModel();
  const read = (): Uint8Array => bin;
  const res = convertTfjsGraph(json, read);
  const session = await LoadedModel.fromBytes('t', res.onnx);
  const ref = await loadReference(json, read);
  const n = 6 * 5 * 4;
  for (const batch of [1, 2]) {
    const x = Float32Array.from({ length: batch * n }, (_, i) => Math.sin(i * 0.53) * 2 + 0.2 * Math.cos(i * 2.1));
    const shape = [batch, 6, 5, 4];
    const refs = await runReference(ref, x, shape, ['sg', 'ss', 'rs']);
    const out = await session.run({ x: { data: x, dims: shape } });
    ['out', 'slice', 'resized'].forEach((k, j) => {
      const o = out[k]?.data as Float32Array;
      const r = refs[j] as Float32Array;
      assert.equal(o.length, r.length, `${k} length`);
      for (let i = 0; i < o.length; i++) assert.ok(Math.abs((o[i] as number) - (r[i] as number)) < 1e-4, `${k}[${i}] batch ${batch}: ${o[i]} vs ${r[i]}`);
    });
  }
  ref.dispose();
  await session.release();
});

test('bad model.json and unsupported ops fail with clear messages', () => {
  const none = (): Uint8Array => new Uint8Array(0);
  assert.throws(() => parseModelJson('{'), /not valid JSON/);
  assert.throws(() => parseModelJson('{"format":"layers-model","modelTopology":{}}'), /not a graph model/);
  assert.throws(() => parseModelJson('{"modelTopology":{"node":[]},"weightsManifest":[]}'), /node is empty/);
  assert.throws(() => parseModelJson('{"modelTopology":{"node":[{"name":"a"}]},"weightsManifest":[]}'), /\.op must be a non-empty string/);
  assert.throws(
    () =>
      parseModelJson(
        '{"modelTopology":{"node":[{"name":"a","op":"Const"}]},"weightsManifest":[{"paths":["x"],"weights":[{"name":"a","shape":[1],"dtype":"string"}]}]}',
      ),
    /dtype "string" is not supported/,
  );
  const placeholder = { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '2' }, { size: '2' }, { size: '1' }] } } } };
  const doc = (node: object): string =>
    JSON.stringify({ modelTopology: { node: [placeholder, node] }, weightsManifest: [], signature: { outputs: { y: { name: 'y' } } } });
  assert.throws(() => convertTfjsGraph(doc({ name: 'y', op: 'Atan2', input: ['x', 'x'] }), none), /op Atan2 \(node y\) is not supported/);
  assert.throws(() => convertTfjsGraph(doc({ name: 'y', op: 'Relu', input: ['nope'] }), none), /missing node nope/);
});

test('conversion is reproducible byte for byte (templates record the ONNX digest)', async () => {
  const { HUMAN_PKG } = await import('../src/models/sources.js');
  const { loadSources } = await import('../src/models/build/fetch.js');
  const files = loadSources(HUMAN_PKG, '/nonexistent-cache');
  const read = (p: string): Uint8Array => files[p] as Uint8Array;
  for (const m of ['iris', 'liveness']) {
    const a = convertTfjsGraph(files[`${m}.json`] as Uint8Array, read).onnx;
    const b = convertTfjsGraph(files[`${m}.json`] as Uint8Array, read).onnx;
    assert.ok(a.length > 100_000);
    assert.deepEqual(Buffer.from(a), Buffer.from(b), `${m} converts differently twice`);
  }
});
