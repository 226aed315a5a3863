import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { Attributes, type AttributeValue } from '../../core/attributes.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import type { KernelContext, MaybeTensor } from '../../kernels/contract.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// These ops fold at plan time (their inputs are host values or shapes), so beside the backend
// comparison their values are checked directly.
function run(op: string, attrs: Record<string, AttributeValue>, inputs: MaybeTensor[] = [], opset = 19): AnyTensor {
  const kernel = resolveDefinition('', op)!;
  const ctx: KernelContext = { attrs: new Attributes(new Map(Object.entries(attrs))), opset, node: op, host: inputs };
  const [meta] = kernel.inferOutputs(inputs.map((t) => t && { dtype: t.type, dims: t.dims }), ctx);
  const [out] = kernel.reference(inputs, ctx);
  assert.deepEqual([out!.type, out!.dims], [meta!.dtype, meta!.dims], 'inferOutputs agrees with reference()');
  return out!;
}
const values = (t: AnyTensor): unknown[] => Array.from(t.data as ArrayLike<unknown>);
const i64 = (v: number[], dims = [v.length]): AnyTensor => new Tensor('int64', BigInt64Array.from(v, BigInt), dims);
const f32 = (v: number[]): AnyTensor => new Tensor('float32', Float32Array.from(v), []);

test('Constant value forms', () => {
  const t = new Tensor('int32', Int32Array.of(1, 2, 3, 4), [2, 2]);
  assert.equal(run('Constant', { value: t }), t);
  assert.deepEqual(values(run('Constant', { value_float: 1.5 })), [1.5]);
  assert.deepEqual(run('Constant', { value_floats: [1, 2.5] }).dims, [2]);
  assert.deepEqual(values(run('Constant', { value_int: 7 })), [7n]);
  assert.deepEqual(values(run('Constant', { value_ints: [3, -4] })), [3n, -4n]);
  assert.deepEqual(values(run('Constant', { value_string: 'hi' })), ['hi']);
  assert.deepEqual(values(run('Constant', { value_strings: ['a', 'b'] })), ['a', 'b']);
});

test('ConstantOfShape fills with the value type', () => {
  const zeros = run('ConstantOfShape', {}, [i64([2, 3])]);
  assert.deepEqual([zeros.type, zeros.dims, values(zeros)], ['float32', [2, 3], [0, 0, 0, 0, 0, 0]]);
  const ints = run('ConstantOfShape', { value: new Tensor('int64', BigInt64Array.of(9n), [1]) }, [i64([3])]);
  assert.deepEqual(values(ints), [9n, 9n, 9n]);
  assert.deepEqual(run('ConstantOfShape', {}, [i64([2, 0])]).dims, [2, 0]);
  assert.deepEqual(run('ConstantOfShape', {}, [i64([])]).dims, []);
});

test('Range counts ceil((limit - start) / delta)', () => {
  assert.deepEqual(values(run('Range', {}, [f32([1]), f32([2]), f32([0.25])])), [1, 1.25, 1.5, 1.75]);
  const down = run('Range', {}, [new Tensor('int32', Int32Array.of(10), []), new Tensor('int32', Int32Array.of(4), []), new Tensor('int32', Int32Array.of(-3), [])]);
  assert.deepEqual(values(down), [10, 7]);
  assert.deepEqual(run('Range', {}, [f32([5]), f32([1]), f32([1])]).dims, [0]);
});

test('EyeLike diagonals and dtype', () => {
  const x = new Tensor('float32', new Float32Array(6), [2, 3]);
  assert.deepEqual(values(run('EyeLike', { k: 1 }, [x])), [0, 1, 0, 0, 0, 1]);
  const asInt = run('EyeLike', { dtype: 6, k: -1 }, [x]);
  assert.deepEqual([asInt.type, values(asInt)], ['int32', [0, 0, 0, 1, 0, 0]]);
});

const shape = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
const scalar = (dtype: 'float32' | 'int64', v: number): InputSpec => ({ dtype, dims: [], values: [v] });
const fed = (dtype: 'int32', v: number): InputSpec => ({ dtype, dims: [], values: [v], feed: true });
// These ops depend only on shapes or constants, so they always fold at plan time (gpu: false):
// the comparison checks the folded CPU value, and no GPU kernel exists to run.
const cases: OpCase[] = [
  { name: 'Constant tensor', gpu: false, op: 'Constant', attrs: { value: new Tensor('float32', Float32Array.of(1, 2, 3), [3]) }, inputs: [] },
  { name: 'ConstantOfShape', gpu: false, op: 'ConstantOfShape', attrs: { value: new Tensor('float32', Float32Array.of(0.5), [1]) }, inputs: [shape([2, 4])] },
  { name: 'Range float', gpu: false, op: 'Range', inputs: [scalar('float32', -1), scalar('float32', 3), scalar('float32', 0.5)] },
  { name: 'Range int64', gpu: false, op: 'Range', inputs: [scalar('int64', 10), scalar('int64', 0), scalar('int64', -3)] },
  // Range's output shape depends on all three values, so they are host inputs: fed ones fold too
  { name: 'Range int32 fed at run time', gpu: false, op: 'Range', inputs: [fed('int32', 10), fed('int32', -7), fed('int32', -3)] },
  { name: 'EyeLike of a fed input', gpu: false, op: 'EyeLike', attrs: { k: -1 }, inputs: [{ dtype: 'float32', dims: [4, 3] }] },
];

runOpCases('constant', cases);

runBadInputCases('constant', [
  { name: 'Constant without value', op: 'Constant', inputs: [], error: /Constant has no value attribute/ },
  { name: 'Range zero delta', op: 'Range', inputs: [scalar('float32', 0), scalar('float32', 3), scalar('float32', 0)], error: /Range delta is 0/ },
  { name: 'ConstantOfShape negative dim', op: 'ConstantOfShape', inputs: [shape([2, -1])], error: /has a negative dim/ },
]);
