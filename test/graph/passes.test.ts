// Graph passes must shrink the graph and leave results unchanged (optimized vs unoptimized, CPU).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { randomTensor } from '../ops/op-harness.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them (kernels/lazy-families.ts)

const rnd = (dims: number[], range: [number, number] = [-1, 1]) => randomTensor({ dtype: 'float32', dims, range });

async function sameResults(model: WriterModel, feeds: Record<string, ReturnType<typeof rnd>>): Promise<void> {
  const bytes = encodeOnnxModel(model);
  for (const backend of ['js', 'wasm', 'webgpu'] as const) {
    const plain = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }], graphOptimizationLevel: 'disabled' });
    const opt = await InferenceSession.create(bytes, { executionProviders: [backend] });
    const want = await plain.run(feeds);
    const got = await opt.run(feeds);
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-4, atol: 1e-5 }), undefined, `${backend} ${k}`);
    await plain.release();
    await opt.release();
  }
}

const opTypes = (model: WriterModel): string[] => optimizeGraph(readOnnxModel(encodeOnnxModel(model))).nodes.map((n) => n.opType);

test('Conv -> BatchNormalization -> Relu folds into one Conv', async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { opType: 'BatchNormalization', inputs: ['c', 's', 'beta', 'mean', 'var'], outputs: ['n'], attrs: { epsilon: 1e-3 } },
      { opType: 'Relu', inputs: ['n'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([4, 3, 3, 3]), b: rnd([4]), s: rnd([4], [0.5, 2]), beta: rnd([4]), mean: rnd([4]), var: rnd([4], [0.1, 2]) },
  };
  assert.deepEqual(opTypes(model), ['Conv']);
  await sameResults(model, { x: rnd([1, 3, 8, 8]) });
});

test('MatMul -> Add(bias) -> Clip fuses into one MatMul with a bias and an activation', async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
      { opType: 'Add', inputs: ['bias', 'm'], outputs: ['a'] },
      { opType: 'Clip', inputs: ['a', 'lo', 'hi'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [5, 16] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([16, 8]), bias: rnd([8]), lo: rnd([], [-0.5, -0.4]), hi: rnd([], [0.4, 0.5]) },
  };
  assert.deepEqual(opTypes(model), ['MatMul']);
  await sameResults(model, { x: rnd([5, 16]) });
});

test('Identity and dead branches are removed; graph outputs are kept', () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Identity', inputs: ['x'], outputs: ['i'] },
      { opType: 'Relu', inputs: ['i'], outputs: ['y'] },
      { opType: 'Sigmoid', inputs: ['x'], outputs: ['unused'] },
      { opType: 'Identity', inputs: ['y'], outputs: ['z'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
    outputs: [{ name: 'z', dtype: 'float32' }],
  };
  assert.deepEqual(opTypes(model), ['Relu', 'Identity']);
});

test('a Conv whose output is also a graph output is not fused', () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
      { opType: 'Relu', inputs: ['c'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 1, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'c', dtype: 'float32' }],
    initializers: { w: rnd([1, 1, 3, 3]) },
  };
  assert.deepEqual(opTypes(model), ['Conv', 'Relu']);
});

/** x * Clip(x + 3, 0, 6) / 6 on `x`, as PaddlePaddle exports HardSwish (opset 11+: Clip bounds as inputs). */
const decomposedHardSwish = (x: string, y: string, scale: 'div' | 'mul' = 'div', hi = 'six'): WriterModel['nodes'] => [
  { opType: 'Add', inputs: [x, 'three'], outputs: [`${y}/add`] },
  { opType: 'Clip', inputs: [`${y}/add`, 'zero', hi], outputs: [`${y}/clip`] },
  { opType: 'Mul', inputs: [x, `${y}/clip`], outputs: [`${y}/mul`] },
  scale === 'div' ? { opType: 'Div', inputs: [`${y}/mul`, 'six'], outputs: [y] } : { opType: 'Mul', inputs: [`${y}/mul`, 'sixth'], outputs: [y] },
];
const hardSwishConstants = { three: scalarF32(3), zero: scalarF32(0), six: scalarF32(6), five: scalarF32(5), sixth: scalarF32(1 / 6) };
function scalarF32(v: number): ReturnType<typeof rnd> {
  const t = rnd([1]);
  (t.data as Float32Array)[0] = v;
  return t.reshape([]);
}

test('decomposed HardSwish (Add 3, Clip 0..6, Mul, Div 6 or Mul 1/6) becomes HardSwish, fused into the Conv before it', async () => {
  const conv: WriterModel = {
    nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, ...decomposedHardSwish('c', 'y')],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([4, 3, 3, 3]), ...hardSwishConstants },
  };
  assert.deepEqual(opTypes(conv), ['Conv']);
  await sameResults(conv, { x: rnd([1, 3, 8, 8], [-4, 4]) });
  const alone: WriterModel = {
    nodes: decomposedHardSwish('x', 'y', 'mul'),
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 50] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: hardSwishConstants,
  };
  assert.deepEqual(opTypes(alone), ['HardSwish']);
  await sameResults(alone, { x: rnd([2, 50], [-5, 5]) });
});

test('look-alikes of HardSwish stay as they are', () => {
  const base = { inputs: [{ name: 'x', dtype: 'float32' as const, dims: [2, 50] }], initializers: hardSwishConstants };
  // Clip to 5, not 6
  assert.deepEqual(opTypes({ ...base, nodes: decomposedHardSwish('x', 'y', 'div', 'five'), outputs: [{ name: 'y', dtype: 'float32' }] }), ['Add', 'Clip', 'Mul', 'Div']);
  // the clipped value is also an output: it must stay computed
  assert.deepEqual(opTypes({ ...base, nodes: decomposedHardSwish('x', 'y'), outputs: [{ name: 'y', dtype: 'float32' }, { name: 'y/clip', dtype: 'float32' }] }), ['Add', 'Clip', 'Mul', 'Div']);
});
