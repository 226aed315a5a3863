import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Output shapes that depend on values: the deciding inputs are computed at plan time, so these
// nodes run on the CPU in every session (gpu: false); fed values re-plan per value.
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const cond = (values: number[]): InputSpec => ({ dtype: 'bool', dims: [values.length], values });
/** few distinct values, so Unique finds repeats */
const small = (...dims: number[]): InputSpec => ({ dtype: 'int32', dims, range: [-3, 3] });

const cases: OpCase[] = [
  { name: 'NonZero fed float', op: 'NonZero', gpu: false, inputs: [{ dtype: 'float32', dims: [3, 4], values: [0, 1, 0, 2, -1, 0, 0, 0, 3, 0, 0.5, 0], feed: true }] },
  { name: 'NonZero random bool 3-D', op: 'NonZero', gpu: false, inputs: [{ dtype: 'bool', dims: [2, 3, 4] }] },
  { name: 'NonZero all zero', op: 'NonZero', gpu: false, inputs: [{ dtype: 'int32', dims: [5], values: [0, 0, 0, 0, 0], feed: true }] },
  { name: 'Compress axis 0', op: 'Compress', gpu: false, attrs: { axis: 0 }, inputs: [f32(4, 3), cond([1, 0, 1, 1])] },
  { name: 'Compress negative axis, short condition', op: 'Compress', gpu: false, attrs: { axis: -1 }, inputs: [f32(2, 3, 5), cond([0, 1, 1])] },
  { name: 'Compress flattened', op: 'Compress', gpu: false, inputs: [f32(3, 4), cond([1, 0, 0, 1, 1, 0, 1])] },
  { name: 'Compress int64 data, fed condition', op: 'Compress', gpu: false, attrs: { axis: 1 }, inputs: [{ dtype: 'int64', dims: [2, 4] }, { dtype: 'bool', dims: [4], values: [0, 1, 0, 1], feed: true }] },
  { name: 'Unique sorted flat', op: 'Unique', gpu: false, outputs: 4, inputs: [small(4, 6)] },
  { name: 'Unique first-occurrence order', op: 'Unique', gpu: false, outputs: 4, attrs: { sorted: 0 }, inputs: [small(17)] },
  { name: 'Unique rows (axis 0)', op: 'Unique', gpu: false, outputs: 4, attrs: { axis: 0 }, inputs: [{ dtype: 'int32', dims: [6, 2], range: [0, 2] }] },
  { name: 'Unique along negative axis, float', op: 'Unique', gpu: false, outputs: 4, attrs: { axis: -1 }, inputs: [{ dtype: 'float32', dims: [2, 5], values: [1, 2, 1, 0, 2, 3, 4, 3, 0, 4], feed: true }] },
];

runOpCases('dynamic-shape', cases);

runBadInputCases('dynamic-shape', [
  { name: 'Compress long condition', op: 'Compress', attrs: { axis: 0 }, inputs: [f32(2, 3), cond([1, 0, 1])], error: /condition has 3 entries, more than the 2 slices along axis 0/ },
  { name: 'Compress float condition', op: 'Compress', inputs: [f32(2), { dtype: 'float32', dims: [2], values: [1, 0] }], error: /condition type float32 is not one of bool/ },
]);

test('NonZero of a value computed from a graph input: the session plans per fed value', async () => {
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['r'], attrs: {} },
      { opType: 'NonZero', inputs: ['r'], outputs: ['y'], attrs: {} },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
    outputs: [{ name: 'y', dtype: 'int64' }],
    initializers: {},
    opsets: { '': 17 },
  });
  const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    // 'x' decides NonZero's shape through the Relu, so the session computes both at plan time per value
    const first = await s.run({ x: new Tensor('float32', Float32Array.of(-1, 2, 0, 3), [4]) });
    assert.deepEqual(Array.from(first.y!.data as BigInt64Array, Number), [1, 3]);
    const second = await s.run({ x: new Tensor('float32', Float32Array.of(5, -2, 1, 0), [4]) });
    assert.deepEqual([...second.y!.dims], [1, 2]);
    assert.deepEqual(Array.from(second.y!.data as BigInt64Array, Number), [0, 2]);
  } finally {
    await s.release();
  }
});
