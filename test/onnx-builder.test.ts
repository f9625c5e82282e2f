import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxGraphBuilder, attr } from '../src/models/onnx/builder.js';
import { LoadedModel } from '../src/models/session.js';

test('a built graph runs on ONNX Runtime and computes what it says', async () => {
  const g = new OnnxGraphBuilder('t');
  const x = g.input('x', [1, 1, 2, 2]);
  const w = g.constFloat('w', [2], [1, 1, 1, 1]);
  const y = g.node('Conv', [x, w], { kernel_shape: attr.ints([1, 1]) });
  const r = g.node('Relu', [y]);
  g.output(g.alias(r, 'y'), [1, 1, 2, 2]);
  const session = await LoadedModel.fromBytes('t', g.toBytes());
  const out = await session.run({ x: { data: Float32Array.from([1, -2, 3, -4]), dims: [1, 1, 2, 2] } });
  await session.release();
  assert.deepEqual(Array.from(out.y!.data), [2, 0, 6, 0]);
});

test('initializer dims must match the data', () => {
  const g = new OnnxGraphBuilder('t');
  assert.throws(() => g.constFloat('bad', [1, 2, 3], [2, 2]), /need 4 values, got 3/);
});
