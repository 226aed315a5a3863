// kiln.QLinearLookup (the QDQ lookup-table fold, runtime/graph/passes/qdq-lookup-table.ts): every
// implementation vs the reference, exactly; x covers all 256 values of its type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attributes } from '../../core/attributes.ts';
import { KilnError } from '../../core/errors.ts';
import { Tensor } from '../../core/tensor.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { runOpCases, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo + 1)));
const every = (lo: number): number[] => Array.from({ length: 256 }, (_, i) => lo + i);
const exact = { rtol: 0, atol: 0 };

const cases: OpCase[] = [
  {
    name: 'uint8 -> uint8, all 256 inputs',
    op: 'QLinearLookup', domain: 'kiln', wasmKernel: true, tolerance: exact,
    inputs: [{ dtype: 'uint8', dims: [4, 64], values: every(0), feed: true }, { dtype: 'uint8', dims: [256], values: ints(256, 0, 255) }],
  },
  {
    name: 'int8 -> int8, all 256 inputs',
    op: 'QLinearLookup', domain: 'kiln', wasmKernel: true, tolerance: exact,
    inputs: [{ dtype: 'int8', dims: [256], values: every(-128), feed: true }, { dtype: 'int8', dims: [256], values: ints(256, -128, 127) }],
  },
  {
    name: 'int8 -> uint8, odd size, random inputs',
    op: 'QLinearLookup', domain: 'kiln', wasmKernel: true, tolerance: exact,
    inputs: [{ dtype: 'int8', dims: [3, 37], values: ints(111, -128, 127), feed: true }, { dtype: 'uint8', dims: [256], values: ints(256, 0, 255) }],
  },
  {
    name: 'uint8 -> int8, fed x',
    op: 'QLinearLookup', domain: 'kiln', wasmKernel: true, tolerance: exact,
    inputs: [{ dtype: 'uint8', dims: [1, 8, 5, 5], values: ints(200, 0, 255), feed: true }, { dtype: 'int8', dims: [256], values: ints(256, -128, 127) }],
  },
  {
    name: 'uint8 -> float32 table (an activation whose result stays float)',
    op: 'QLinearLookup', domain: 'kiln', wasmKernel: true, tolerance: exact,
    inputs: [{ dtype: 'uint8', dims: [2, 128], values: every(0), feed: true }, { dtype: 'float32', dims: [256], values: Array.from({ length: 256 }, () => rng.uniform() * 8 - 4) }],
  },
];

runOpCases('qlinear-lookup', cases);

test('a table that is not 256 8-bit entries, or a non-8-bit x, is an INVALID_GRAPH KilnError', () => {
  const def = resolveDefinition('kiln', 'QLinearLookup')!;
  const ctx = { attrs: Attributes.empty(), opset: 1, node: 'lut', host: [] };
  const x = { dtype: 'uint8' as const, dims: [4] };
  for (const [inputs, what] of [
    [[x, { dtype: 'uint8' as const, dims: [255] }], 'shape [256]'],
    [[x, { dtype: 'int32' as const, dims: [256] }], 'uint8, int8 or float32'],
    [[{ dtype: 'int32' as const, dims: [4] }, { dtype: 'uint8' as const, dims: [256] }], 'uint8 or int8'],
    [[x, { dtype: 'uint8' as const, dims: [256] }, { dtype: 'float32' as const, dims: [256] }], 'dequantized inputs'],
    [[x, { dtype: 'float32' as const, dims: [256] }, { dtype: 'float32' as const, dims: [255] }], 'dequantized inputs'],
  ] as const) {
    assert.throws(() => def.inferOutputs(inputs, ctx), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_GRAPH' && e.message.includes(what));
  }
  // the reference indexes int8 x from -128
  const y = def.reference([new Tensor('int8', Int8Array.of(-128, 127), [2]), new Tensor('uint8', Uint8Array.from({ length: 256 }, (_, i) => 255 - i), [256])], ctx)[0]!;
  assert.deepEqual(Array.from(y.data as Uint8Array), [255, 0]);
});
