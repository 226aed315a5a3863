import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { runBadInputCases } from './op-errors.ts';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const ints = (dims: number[], values: number[], dtype: 'int64' | 'int32' = 'int64'): InputSpec => ({ dtype, dims, values, feed: true });
/** random indices in [-n, n): negative ones count from the end; duplicates likely */
const idx = (dims: number[], n: number): InputSpec => ({ dtype: 'int64', dims, range: [-n, n] });

const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

const cases: OpCase[] = [
  ...REDUCTIONS.map((reduction): OpCase => ({
    name: `ScatterND slices, duplicates, reduction ${reduction}`,
    op: 'ScatterND',
    opset: 18,
    attrs: { reduction },
    inputs: [f32([4, 5, 3]), ints([3, 1], [0, -2, 0]), f32([3, 5, 3])],
  })),
  ...REDUCTIONS.map((reduction): OpCase => ({
    name: `ScatterND element tuples, reduction ${reduction}`,
    op: 'ScatterND',
    opset: 18,
    attrs: { reduction },
    inputs: [f32([3, 4]), ints([2, 3, 2], [0, 1, 2, 3, 0, 1, -1, -1, 1, 2, 0, 1]), f32([2, 3])],
  })),
  { name: 'ScatterND int32 data, k = 2 of rank 3, int32 indices', op: 'ScatterND', inputs: [{ dtype: 'int32', dims: [3, 4, 5] }, ints([2, 2], [2, 1, 0, 3], 'int32'), { dtype: 'int32', dims: [2, 5] }] },
  { name: 'ScatterND int64 data add', op: 'ScatterND', opset: 16, attrs: { reduction: 'add' }, inputs: [{ dtype: 'int64', dims: [6] }, ints([4, 1], [5, 0, 5, -1]), { dtype: 'int64', dims: [4] }] },
  { name: 'ScatterND bool data', op: 'ScatterND', inputs: [{ dtype: 'bool', dims: [4, 2] }, ints([2, 1], [3, 1]), { dtype: 'bool', dims: [2, 2] }] },
  { name: 'ScatterND whole-tensor update (k = 0)', op: 'ScatterND', inputs: [f32([2, 3]), ints([0], []), f32([2, 3])] },
  ...REDUCTIONS.map((reduction): OpCase => ({
    name: `ScatterElements axis 1 random indices, reduction ${reduction}`,
    op: 'ScatterElements',
    opset: 18,
    attrs: { axis: 1, reduction },
    inputs: [f32([4, 7]), idx([3, 9], 7), f32([3, 9])],
  })),
  { name: 'ScatterElements axis 0, 3-D, indices smaller than data', op: 'ScatterElements', attrs: { axis: 0 }, inputs: [f32([5, 4, 3]), idx([3, 2, 3], 5), f32([3, 2, 3])] },
  { name: 'ScatterElements negative axis, int32 indices', op: 'ScatterElements', opset: 16, attrs: { axis: -1, reduction: 'add' }, inputs: [f32([3, 6]), { dtype: 'int32', dims: [3, 4], range: [-6, 6] }, f32([3, 4])] },
  { name: 'ScatterElements int64 data max', op: 'ScatterElements', opset: 18, attrs: { axis: 0, reduction: 'max' }, inputs: [{ dtype: 'int64', dims: [4, 3] }, idx([5, 3], 4), { dtype: 'int64', dims: [5, 3] }] },
  { name: 'Scatter (opset 10)', op: 'Scatter', opset: 10, attrs: { axis: 1 }, inputs: [f32([3, 5]), idx([3, 2], 5), f32([3, 2])] },
];

runOpCases('scatter', cases);

runBadInputCases('scatter', [
  { name: 'ScatterND tuple too long', op: 'ScatterND', inputs: [f32([3]), ints([1, 2], [0, 0]), f32([1])], error: /do not fit data/ },
  { name: 'ScatterND updates shape', op: 'ScatterND', inputs: [f32([3, 2]), ints([2, 1], [0, 1]), f32([2, 3])], error: /updates have dims \[2, 3\], expected \[2, 2\]/ },
  { name: 'ScatterND unknown reduction', op: 'ScatterND', opset: 18, attrs: { reduction: 'avg' }, inputs: [f32([3]), ints([1, 1], [0]), f32([1])], error: /reduction 'avg' is not one of/ },
  { name: 'ScatterND bool add', op: 'ScatterND', opset: 18, attrs: { reduction: 'add' }, inputs: [{ dtype: 'bool', dims: [3] }, ints([1, 1], [0]), { dtype: 'bool', dims: [1] }], error: /data \(reduction 'add'\) type bool/ },
  { name: 'ScatterElements rank', op: 'ScatterElements', inputs: [f32([3, 2]), ints([2], [0, 1]), f32([2])], error: /indices rank 1 must equal data rank 2/ },
  { name: 'ScatterElements updates dims', op: 'ScatterElements', inputs: [f32([3, 2]), ints([1, 2], [0, 1]), f32([2, 1])], error: /updates dims \[2, 1\] differ/ },
  { name: 'ScatterElements float indices', op: 'ScatterElements', inputs: [f32([3]), f32([1]), f32([1])], error: /indices type float32/ },
]);

test('an index out of range at run time is a typed error on the CPU, not a crash or a silent write', async () => {
  for (const [op, dims] of [['ScatterND', [1, 1]], ['ScatterElements', [3]]] as const) {
    const c: OpCase = { name: op, op, inputs: [f32([3]), { dtype: 'int64', dims: [...dims], values: dims.length === 2 ? [3] : [0, -4, 1], feed: true }, f32(dims.length === 2 ? [1] : [3])] };
    const { bytes, feeds } = buildCaseModel(c);
    const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    try {
      await assert.rejects(s.run(feeds), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /index (3|-4) is out of range for a dimension of size 3/.test(e.message));
    } finally {
      await s.release();
    }
  }
});
