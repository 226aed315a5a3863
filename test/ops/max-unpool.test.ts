import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { runBadInputCases } from './op-errors.ts';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// MaxUnpool runs on the CPU in every session (gpu: false): a scatter whose duplicate indices must
// resolve in order (the last write wins), which a parallel GPU kernel would not keep.
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
/** random flat indices into an output of `total` elements (duplicates likely: the last one wins) */
const indices = (total: number, ...dims: number[]): InputSpec => ({ dtype: 'int64', dims, range: [0, total] });
const shape = (...values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values, feed: true });

const cases: OpCase[] = [
  { name: '2-D, kernel 2 stride 2', op: 'MaxUnpool', opset: 11, gpu: false, attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32(2, 3, 3, 4), indices(2 * 3 * 6 * 8, 2, 3, 3, 4)] },
  { name: 'pads, output_shape fed', op: 'MaxUnpool', opset: 11, gpu: false, attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, inputs: [f32(1, 2, 3, 3), indices(2 * 6 * 7, 1, 2, 3, 3), shape(1, 2, 6, 7)] },
  { name: '1-D, opset 9', op: 'MaxUnpool', opset: 9, gpu: false, attrs: { kernel_shape: [3], strides: [1] }, inputs: [f32(1, 4, 5), indices(4 * 7, 1, 4, 5)] },
  { name: '3-D, float64', op: 'MaxUnpool', opset: 22, gpu: false, attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }, inputs: [{ dtype: 'float64', dims: [1, 1, 2, 2, 2] }, indices(64, 1, 1, 2, 2, 2)] },
];

runOpCases('max-unpool', cases);

runBadInputCases('max-unpool', [
  { name: 'indices shape', op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32(1, 1, 2, 2), indices(16, 1, 1, 2, 3)], error: /I must have X's shape/ },
  { name: 'no kernel_shape', op: 'MaxUnpool', opset: 11, inputs: [f32(1, 1, 2, 2), indices(16, 1, 1, 2, 2)], error: /needs kernel_shape/ },
  { name: 'output_shape rank', op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [2, 2] }, inputs: [f32(1, 1, 2, 2), indices(9, 1, 1, 2, 2), shape(3, 3)], error: /must give 4 non-negative dims/ },
]);

test('an index outside the output is a typed error at run time, on every CPU path', async () => {
  const { bytes } = buildCaseModel({ name: 'range', op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32(1, 1, 2, 2), { dtype: 'int64', dims: [1, 1, 2, 2] }] });
  const x = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
  for (const ep of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
    const feed = (i: number[]): Record<string, AnyTensor> => ({ in0: x, in1: new Tensor('int64', BigInt64Array.from(i, BigInt), [1, 1, 2, 2]) });
    assert.deepEqual(Array.from((await s.run(feed([0, 5, 5, 15]))).out0!.data as Float32Array), [1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], `${ep}: the later duplicate wins`);
    await assert.rejects(s.run(feed([0, 1, 16, 2])), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /index 16 .* outside the output's 16 elements/.test(e.message), ep);
    await s.release();
  }
});
