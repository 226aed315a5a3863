// Non-float tensors in the wasm backend's arena (int32, int64, uint8, int8, bool): the kernels on
// the values where conversions and comparisons differ (checked against the op's reference only:
// the op harness also runs WebGPU, whose NaN and overflow rules are not under test here), the
// reference's typed error for out-of-range indices, and chains that run with every step in wasm and
// no copy between the arena and js (Placement.arenaCopies), beside one that does copy.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { onnxTypeCode } from '../../core/dtype.ts';
import { KilnError } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { buildCaseModel, type OpCase } from '../ops/op-harness.ts';

const rng = testRng(import.meta.url);
console.log(`wasm typed-arena tests: KILN_TEST_SEED=${rng.seed}`);

/** The case on wasm and on the reference: same values, and every step on its wasm kernel. */
async function wasmMatchesReference(bytes: Uint8Array, feeds: Record<string, AnyTensor>, allWasm = true): Promise<InferenceSession> {
  const reference = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const wasm = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const want = await reference.run(feeds);
    for (let run = 0; run < 2; run++) {
      const got = await wasm.run(feeds);
      for (const name of Object.keys(want)) assert.equal(compareTensors(got[name]!, want[name]!, { rtol: 0, atol: 0 }), undefined, `run ${run} ${name}`);
    }
    const steps = wasm.lastPlacement?.steps ?? [];
    if (allWasm) assert.ok(steps.length > 0 && steps.every((s) => s.implementation === 'wasm'), `not every step ran in wasm: ${JSON.stringify(steps)}`);
    return wasm;
  } finally {
    await reference.release();
    await wasm.release();
  }
}

const specials: OpCase[] = [
  // NaN and infinities give 0, wrap-around past the target's width, f32 at and beyond 2^63
  ...(['int32', 'int64', 'uint8', 'int8', 'bool'] as const).map((to): OpCase => ({
    name: `Cast float32 -> ${to}`, op: 'Cast', attrs: { to: onnxTypeCode(to) },
    inputs: [{ dtype: 'float32', dims: [14], values: [NaN, Infinity, -Infinity, 3e9, -3e9, 2 ** 40 + 4096, -(2 ** 63), 2 ** 63, 2 ** 64, 1e20, -1e38, 255.9, -128.5, -0], feed: true }],
  })),
  ...(['int32', 'float32', 'uint8', 'int8', 'bool'] as const).map((to): OpCase => ({
    name: `Cast int64 -> ${to}`, op: 'Cast', attrs: { to: onnxTypeCode(to) },
    inputs: [{ dtype: 'int64', dims: [8], values: [2 ** 53 + 2, -(2 ** 62) - 4096, 2 ** 31, -(2 ** 31) - 1, 4294967297, 16777217, -16777219, 0], feed: true }],
  })),
  ...(['bool', 'uint8', 'int8', 'int32'] as const).flatMap((from) => (['float32', 'int64'] as const).map((to): OpCase => ({
    name: `Cast ${from} -> ${to}`, op: 'Cast', attrs: { to: onnxTypeCode(to) },
    inputs: [{ dtype: from, dims: [6], values: from === 'bool' ? [1, 0, 1, 1, 0, 0] : from === 'uint8' ? [0, 1, 127, 128, 255, 9] : [-128, -1, 0, 1, 127, from === 'int32' ? 2 ** 31 - 1 : 5], feed: true }],
  }))),
  // ties (both rules), a NaN first (it stays), a NaN later (never wins), infinities, -0 vs 0
  ...['ArgMax', 'ArgMin'].flatMap((op) => [0, 1].map((last): OpCase => ({
    name: `${op} ties and specials, select_last_index ${last}`, op, attrs: { axis: 1, select_last_index: last },
    inputs: [{ dtype: 'float32', dims: [4, 5], values: [1, 3, 3, -1, 3, NaN, 2, 5, 2, -7, -2, NaN, -2, Infinity, -Infinity, 0, -0, 0, 4, 4], feed: true }],
  }))),
  ...['ArgMax', 'ArgMin'].map((op): OpCase => ({
    name: `${op} ties down a column`, op, attrs: { axis: 0, select_last_index: 1 },
    inputs: [{ dtype: 'float32', dims: [4, 3], values: [1, 2, 0, 1, -2, 0, 0, 2, 0, 1, -2, -1], feed: true }],
  })),
  // NaN compares false (and unequal), -0 equals 0, infinities equal themselves
  ...['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual'].map((op): OpCase => ({
    name: `${op} NaN, -0, infinities`, op,
    inputs: [
      { dtype: 'float32', dims: [7], values: [1, NaN, 2, -0, Infinity, 3, NaN], feed: true },
      { dtype: 'float32', dims: [7], values: [1, 1, NaN, 0, Infinity, -Infinity, NaN], feed: true },
    ],
  })),
  // int64 beyond 32 bits through the 32-bit-word copies (an element is two words): the WebGPU
  // backend cannot hold these values, so they are checked here rather than in the op files
  ...((): OpCase[] => {
    const big = (dims: number[]): OpCase['inputs'][number] => ({ dtype: 'int64', dims, range: [-1e15, 1e15] });
    const i64 = (values: number[]): OpCase['inputs'][number] => ({ dtype: 'int64', dims: [values.length], values });
    return [
      { name: 'Slice int64 beyond 32 bits, negative step', op: 'Slice', inputs: [big([5, 7]), i64([0, 6]), i64([5, 0]), i64([0, 1]), i64([2, -2])] },
      { name: 'Transpose int64 beyond 32 bits', op: 'Transpose', attrs: { perm: [0, 2, 3, 1] }, inputs: [big([1, 5, 3, 7])] },
      { name: 'Expand int64 beyond 32 bits', op: 'Expand', inputs: [big([3, 1]), i64([2, 3, 5])] },
      { name: 'Concat int64 beyond 32 bits', op: 'Concat', attrs: { axis: 1 }, inputs: [big([2, 3, 5]), big([2, 1, 5])] },
      { name: 'Tile int64 beyond 32 bits', op: 'Tile', inputs: [big([2, 3]), i64([3, 2])] },
      { name: 'Split int64 beyond 32 bits', op: 'Split', outputs: 2, attrs: { axis: 1 }, inputs: [big([3, 5, 3]), i64([1, 4])] },
      { name: 'Gather int64 data beyond 32 bits', op: 'Gather', attrs: { axis: 1 }, inputs: [big([3, 6]), { dtype: 'int64', dims: [4], range: [-6, 6] }] },
      { name: 'Where int64 beyond 32 bits', op: 'Where', inputs: [{ dtype: 'bool', dims: [5, 1] }, big([1, 9]), big([5, 9])] },
      // equal low words, different high words (and the reverse) must compare unequal
      ...['Equal', 'Less', 'Greater'].map((op): OpCase => ({ name: `${op} int64 beyond 32 bits`, op, inputs: [
        { dtype: 'int64', dims: [6], values: [2 ** 40 + 5, 5, -(2 ** 33), 2 ** 33, 7, -1], feed: true },
        { dtype: 'int64', dims: [6], values: [5, 5, 0, 2 ** 33, 7 + 2 ** 32, 2 ** 32 - 1], feed: true },
      ] })),
    ];
  })(),
];

describe('wasm kernels on the values where rules differ, against the reference', () => {
  for (const c of specials) {
    test(c.name, async () => {
      const { bytes, feeds } = buildCaseModel(c, rng);
      await wasmMatchesReference(bytes, feeds);
    });
  }
});

/** A one-node model whose indices are fed, so the check runs at run time. */
function gatherModel(op: 'Gather' | 'GatherElements' | 'GatherND', dataDims: number[], idx: AnyTensor, axis: number): { bytes: Uint8Array; feeds: Record<string, AnyTensor> } {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: op, name: 'g', inputs: ['x', 'i'], outputs: ['y'], attrs: op === 'GatherND' ? { batch_dims: axis } : { axis } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: dataDims }, { name: 'i', dtype: idx.type, dims: idx.dims }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {},
  });
  const n = dataDims.reduce((a, d) => a * d, 1);
  return { bytes, feeds: { x: new Tensor('float32', Float32Array.from(rng.floats(n, -2, 2)), dataDims), i: idx } };
}

describe('out-of-range indices on wasm: the reference typed error, nothing written', () => {
  const cases: { name: string; op: 'Gather' | 'GatherElements' | 'GatherND'; dims: number[]; idx: AnyTensor; axis: number; message: RegExp }[] = [
    // GatherND: `axis` is batch_dims; the bad component is checked against its own axis's size
    { name: 'GatherND int64 second component', op: 'GatherND', dims: [4, 3, 2], idx: new Tensor('int64', BigInt64Array.from([0n, 2n, -4n, 3n]), [2, 2]), axis: 0, message: /index 3 is out of range for a dimension of size 3/ },
    { name: 'GatherND int32 -n - 1 with batch_dims 1', op: 'GatherND', dims: [2, 5], idx: new Tensor('int32', Int32Array.from([4, -6]), [2, 1]), axis: 1, message: /index -6 is out of range for a dimension of size 5/ },
    { name: 'Gather int64 index n', op: 'Gather', dims: [5, 3], idx: new Tensor('int64', BigInt64Array.from([1n, 5n, -1n]), [3]), axis: 0, message: /index 5 is out of range for a dimension of size 5/ },
    { name: 'Gather int64 index -n - 1', op: 'Gather', dims: [2, 4], idx: new Tensor('int64', BigInt64Array.from([-5n]), [1]), axis: 1, message: /index -5 is out of range for a dimension of size 4/ },
    { name: 'Gather int64 index beyond 2^32', op: 'Gather', dims: [3], idx: new Tensor('int64', BigInt64Array.from([4294967297n]), [1]), axis: 0, message: /index 4294967297 is out of range for a dimension of size 3/ },
    { name: 'GatherElements int32 index', op: 'GatherElements', dims: [3, 4], idx: new Tensor('int32', Int32Array.from([0, 1, 2, 3, -4, 9]), [3, 2]), axis: 1, message: /index 9 is out of range for a dimension of size 4/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { bytes, feeds } = gatherModel(c.op, c.dims, c.idx, c.axis);
      for (const provider of [{ name: 'js', reference: true } as const, 'wasm' as const]) {
        const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
        try {
          await assert.rejects(s.run(feeds), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && c.message.test(e.message) && e.message.includes("node 'g'"));
          if (provider === 'wasm') assert.deepEqual(s.lastPlacement?.steps.map((p) => p.implementation), ['wasm']);
        } finally {
          await s.release();
        }
      }
    });
  }
});

const node = (opType: string, inputs: string[], outputs: string[], attrs?: WriterNode['attrs']): WriterNode => ({ opType, inputs, outputs, ...(attrs ? { attrs } : {}) });
/**
 * Small integers as floats: every MatMul/Conv sum is exact in any order, so the integer outputs
 * downstream (argmax ids, pool indices, ties included) must equal the reference's exactly.
 */
const floats = (dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(dims.reduce((a, d) => a * d, 1), -3.5, 3.5), Math.round), dims);

async function chain(nodes: WriterNode[], inputs: Record<string, Tensor<'float32'>>, outputs: string[], inits: Record<string, AnyTensor>, allWasm = true): Promise<{ steps: string[]; copies: number | undefined }> {
  const bytes = encodeOnnxModel({
    nodes,
    inputs: Object.entries(inputs).map(([name, t]) => ({ name, dtype: 'float32' as const, dims: t.dims })),
    outputs: outputs.map((name) => ({ name, dtype: 'float32' as const })),
    initializers: inits,
  });
  const s = await wasmMatchesReference(bytes, inputs, allWasm);
  return { steps: (s.lastPlacement?.steps ?? []).map((p) => `${p.opType}:${p.implementation}`), copies: s.lastPlacement?.arenaCopies };
}

describe('chains on wasm: every step in wasm, no copy between the arena and js', () => {
  test('MatMul -> ArgMax -> Gather (a classifier head picking the label embedding)', async () => {
    const r = await chain(
      [node('MatMul', ['x', 'w'], ['logits']), node('ArgMax', ['logits'], ['id'], { axis: 1, keepdims: 0 }), node('Gather', ['table', 'id'], ['emb'], { axis: 0 }), node('Equal', ['id', 'zero'], ['is0']), node('Unsqueeze', ['is0', 'axis1'], ['is0col']), node('Where', ['is0col', 'emb', 'negemb'], ['y'])],
      { x: floats([5, 16]) }, ['y', 'id'],
      { w: floats([16, 11]), table: floats([11, 7]), zero: new Tensor('int64', BigInt64Array.from([0n]), []), axis1: new Tensor('int64', BigInt64Array.from([1n]), [1]), negemb: floats([7]) },
    );
    assert.deepEqual(r.steps, ['MatMul:wasm', 'ArgMax:wasm', 'Gather:wasm', 'Equal:wasm', 'Unsqueeze:wasm', 'Where:wasm']);
    assert.equal(r.copies, 0);
  });

  test('Conv -> MaxPool with Indices -> Cast of the indices', async () => {
    const r = await chain(
      [node('Conv', ['x', 'w'], ['c'], { pads: [1, 1, 1, 1] }), node('MaxPool', ['c'], ['p', 'ind'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), node('Cast', ['ind'], ['indf'], { to: onnxTypeCode('float32') })],
      { x: floats([1, 3, 9, 11]) }, ['p', 'indf'],
      { w: floats([4, 3, 3, 3]) },
    );
    assert.deepEqual(r.steps, ['Conv:wasm', 'MaxPool:wasm', 'Cast:wasm']);
    assert.equal(r.copies, 0);
  });

  test('the counter counts: a step without a wasm kernel between two wasm steps copies in and out', async () => {
    // Neg on int64 has no wasm kernel: it reads ArgMax's int64 output from the arena and writes its own back for Cast
    const r = await chain(
      [node('ArgMax', ['x'], ['id'], { axis: 1 }), node('Neg', ['id'], ['negated']), node('Cast', ['negated'], ['y'], { to: onnxTypeCode('float32') })],
      { x: floats([4, 6]) }, ['y'],
      {},
      false,
    );
    assert.deepEqual(r.steps, ['ArgMax:wasm', 'Neg:js', 'Cast:wasm']);
    assert.equal(r.copies, 2);
  });
});
