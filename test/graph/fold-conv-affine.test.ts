// Conv -> Mul / Add by per-channel constants folds into the conv's weights and bias
// (runtime/graph/passes/fold-conv-affine.ts, onnxruntime's ConvMulFusion / ConvAddFusion): the graph
// shrinks, and the folded model gives the unoptimized model's answers on js, wasm and WebGPU; the
// cases the fold must leave alone keep their nodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { randomTensor } from '../ops/op-harness.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them

const rnd = (dims: number[], range: [number, number] = [-1, 1]) => randomTensor({ dtype: 'float32', dims, range });
const opTypes = (model: WriterModel): string[] => optimizeGraph(readOnnxModel(encodeOnnxModel(model))).nodes.map((n) => n.opType);

async function sameResults(model: WriterModel): Promise<void> {
  const bytes = encodeOnnxModel(model);
  const feeds = { x: rnd([...model.inputs[0]!.dims!] as number[], [-3, 3]) };
  const plain = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }], graphOptimizationLevel: 'disabled' });
  const want = await plain.run(feeds);
  await plain.release();
  for (const backend of ['js', 'wasm', 'webgpu'] as const) {
    const opt = await InferenceSession.create(bytes, { executionProviders: [backend] });
    const got = await opt.run(feeds);
    await opt.release();
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-5, atol: 1e-5 }), undefined, `${backend} ${k}`);
  }
}

/** Conv 6 -> 8 channels (3x3, pad 1, `bias`) on [2, 6, 9, 11], then `tail` reading 'c' and writing 'y' */
function convThen(tail: WriterModel['nodes'], inits: WriterModel['initializers'], bias = true): WriterModel {
  return {
    nodes: [{ opType: 'Conv', inputs: ['x', 'w', ...(bias ? ['b'] : [])], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, ...tail],
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 6, 9, 11] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([8, 6, 3, 3]), ...(bias ? { b: rnd([8]) } : {}), ...inits },
  };
}

test('Conv -> Mul (per channel) -> Add (scalar) -> HardSwish folds into one Conv with the HardSwish fused', async () => {
  const model = convThen([
    { opType: 'Mul', inputs: ['c', 's'], outputs: ['m'] },
    { opType: 'Add', inputs: ['a', 'm'], outputs: ['n'] },
    { opType: 'HardSwish', inputs: ['n'], outputs: ['y'] },
  ], { s: rnd([8, 1, 1], [-2, 2]), a: rnd([1]) });
  assert.deepEqual(opTypes(model), ['Conv']);
  await sameResults(model);
});

test('Conv without bias -> Add ([1, 8, 1, 1]) -> Mul (scalar) -> Add (per channel [8, 1, 1]) folds in order', async () => {
  const model = convThen([
    { opType: 'Add', inputs: ['c', 'a1'], outputs: ['p'] },
    { opType: 'Mul', inputs: ['p', 's'], outputs: ['m'] },
    { opType: 'Add', inputs: ['m', 'a2'], outputs: ['y'] },
  ], { a1: rnd([1, 8, 1, 1]), s: rnd([], [0.5, 2]), a2: rnd([8, 1, 1]) }, false);
  assert.deepEqual(opTypes(model), ['Conv']);
  await sameResults(model);
});

test('the fold leaves alone: a constant along a spatial axis, one that adds a dimension, Sub, a run-time operand, a conv output read twice', async () => {
  const leftAlone: [string, WriterModel, string[]][] = [
    ['spatial [9, 1]', convThen([{ opType: 'Mul', inputs: ['c', 's'], outputs: ['y'] }], { s: rnd([9, 1]) }), ['Conv', 'Mul']],
    ['rank 5 [1, 1, 8, 1, 1]', convThen([{ opType: 'Mul', inputs: ['c', 's'], outputs: ['y'] }], { s: rnd([1, 1, 8, 1, 1]) }), ['Conv', 'Mul']],
    ['batch [2, 8, 1, 1]', convThen([{ opType: 'Add', inputs: ['c', 's'], outputs: ['y'] }], { s: rnd([2, 8, 1, 1]) }), ['Conv', 'Add']],
    ['Sub', convThen([{ opType: 'Sub', inputs: ['c', 's'], outputs: ['y'] }], { s: rnd([8, 1, 1]) }), ['Conv', 'Sub']],
    ['read twice', convThen([{ opType: 'Mul', inputs: ['c', 's'], outputs: ['m'] }, { opType: 'Add', inputs: ['m', 'c'], outputs: ['y'] }], { s: rnd([8, 1, 1]) }), ['Conv', 'Mul', 'Add']],
  ];
  const runTime: WriterModel = {
    ...convThen([{ opType: 'Mul', inputs: ['c', 's'], outputs: ['y'] }], {}),
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 6, 9, 11] }, { name: 's', dtype: 'float32', dims: [8, 1, 1] }],
  };
  assert.deepEqual(opTypes(runTime), ['Conv', 'Mul'], 'run-time operand');
  for (const [what, model, ops] of leftAlone) {
    assert.deepEqual(opTypes(model), ops, what);
    await sameResults(model);
  }
});
