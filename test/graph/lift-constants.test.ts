// Weights given as Constant nodes (paddle2onnx's form) must fold like initializers, with the same
// results as the unoptimized graph on the CPU reference.
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
const constant = (name: string, dims: number[], range?: [number, number]) => ({ opType: 'Constant', inputs: [], outputs: [name], attrs: { value: rnd(dims, range) } });

const model: WriterModel = {
  nodes: [
    constant('w', [4, 3, 3, 3]),
    constant('s', [4], [0.5, 2]),
    constant('beta', [4]),
    constant('mean', [4]),
    constant('var', [4], [0.1, 2]),
    { opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { opType: 'BatchNormalization', inputs: ['c', 's', 'beta', 'mean', 'var'], outputs: ['n'], attrs: { epsilon: 1e-3 } },
    { opType: 'Relu', inputs: ['n'], outputs: ['y'] },
    // a Constant that is also a graph output stays a node
    { opType: 'Constant', inputs: [], outputs: ['k'], attrs: { value: rnd([2]) } },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }],
  outputs: [{ name: 'y', dtype: 'float32' }, { name: 'k', dtype: 'float32' }],
  initializers: {},
};

test('Constant-node weights are lifted so Conv -> BatchNormalization -> Relu folds into one Conv', async () => {
  const bytes = encodeOnnxModel(model);
  assert.deepEqual(optimizeGraph(readOnnxModel(bytes)).nodes.map((n) => n.opType).sort(), ['Constant', 'Conv']);
  const x = rnd([1, 3, 8, 8]);
  const plain = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }], graphOptimizationLevel: 'disabled' });
  const want = await plain.run({ x });
  await plain.release();
  for (const backend of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [backend] });
    const got = await s.run({ x });
    await s.release();
    for (const k of ['y', 'k']) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-4, atol: 1e-5 }), undefined, `${backend} ${k}`);
  }
});
