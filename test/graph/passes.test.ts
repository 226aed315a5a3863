// Graph passes must shrink the graph and leave results unchanged (optimized vs unoptimized, CPU).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { randomTensor } from '../ops/op-harness.ts';

const rnd = (dims: number[], range: [number, number] = [-1, 1]) => randomTensor({ dtype: 'float32', dims, range });

async function sameResults(model: WriterModel, feeds: Record<string, ReturnType<typeof rnd>>): Promise<void> {
  const bytes = encodeOnnxModel(model);
  for (const backend of ['cpu', 'webgpu'] as const) {
    const plain = await InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
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
