import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attributes } from '../../core/attributes.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import type { KernelContext } from '../../kernels/contract.ts';
import { runOpCases, type OpCase } from './op-harness.ts';

// Shape and Size fold from metas at plan time: the values are checked directly, and a session
// run on both backends checks that the plan folds them (no step runs, nothing falls back).
function evalShape(op: string, dims: number[], attrs: Record<string, number> = {}): unknown[] {
  const kernel = resolveDefinition('', op)!;
  const ctx: KernelContext = { attrs: new Attributes(new Map(Object.entries(attrs))), opset: 19, node: op, host: [] };
  const [t] = kernel.evalFromMeta!([{ dtype: 'float32', dims }], ctx);
  const [meta] = kernel.inferOutputs([{ dtype: 'float32', dims }], ctx);
  assert.deepEqual([t!.type, t!.dims], [meta!.dtype, meta!.dims]);
  return Array.from(t!.data as BigInt64Array, Number);
}

test('Shape with start and end', () => {
  assert.deepEqual(evalShape('Shape', [2, 3, 4]), [2, 3, 4]);
  assert.deepEqual(evalShape('Shape', [2, 3, 4], { start: 1 }), [3, 4]);
  assert.deepEqual(evalShape('Shape', [2, 3, 4], { end: -1 }), [2, 3]);
  assert.deepEqual(evalShape('Shape', [2, 3, 4], { start: -10, end: 10 }), [2, 3, 4]);
  assert.deepEqual(evalShape('Shape', [2, 3, 4], { start: 2, end: 1 }), []);
  assert.deepEqual(evalShape('Shape', []), []);
});

test('Size', () => {
  assert.deepEqual(evalShape('Size', [2, 3, 4]), [24]);
  assert.deepEqual(evalShape('Size', []), [1]);
  assert.deepEqual(evalShape('Size', [3, 0]), [0]);
});

// These ops depend only on shapes or constants, so they always fold at plan time (gpu: false):
// the comparison checks the folded CPU value, and no GPU kernel exists to run.
const cases: OpCase[] = [
  { name: 'Shape of a fed input', gpu: false, op: 'Shape', inputs: [{ dtype: 'float32', dims: [2, 3, 4] }] },
  { name: 'Shape start/end (opset 15)', gpu: false, op: 'Shape', opset: 15, attrs: { start: 1, end: -1 }, inputs: [{ dtype: 'float32', dims: [2, 3, 4, 5] }] },
  { name: 'Size of a fed input', gpu: false, op: 'Size', inputs: [{ dtype: 'int32', dims: [5, 6] }] },
];

runOpCases('shape', cases);
