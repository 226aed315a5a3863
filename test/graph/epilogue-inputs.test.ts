// Elementwise tails that read more tensors (BERT's residual `MatMul + bias + x`, a scale and a
// residual after a Gemm, ResNet's Conv + x) fold into the producer's epilogue on WebGPU: one
// dispatch, the answers of the same model with the graph passes off, on every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { webgpuGraphModel } from '../helpers/webgpu-graph.ts';
import { randomTensor } from '../ops/op-harness.ts';

const rng = testRng(import.meta.url);
const rnd = (dims: number[]): AnyTensor => randomTensor({ dtype: 'float32', dims, range: [-1, 1] }, rng);

function gpuNodes(model: WriterModel): { opType: string; inputs: readonly string[] }[] {
  const m = readOnnxModel(encodeOnnxModel(model));
  return optimizeForBackend(m, optimizeGraph(m), 'webgpu').nodes.map((n) => ({ opType: n.opType, inputs: n.inputs }));
}

/**
 * Each backend's optimized session against the same model with the graph passes off (WebGPU and
 * wasm within the op tests' tolerances); on js the WebGPU graph (fused nodes, their js kernels)
 * equals the graph without the WebGPU fusion exactly. Returns the WebGPU placement.
 */
async function sameResults(model: WriterModel, feeds: Record<string, AnyTensor>): Promise<{ ops: string[]; cpu: number }> {
  const bytes = encodeOnnxModel(model);
  const run = async (b: Uint8Array, backend: 'webgpu' | 'js' | 'wasm', passes: boolean) => {
    const s = await InferenceSession.create(b, { executionProviders: [backend], graphOptimizationLevel: passes ? 'all' : 'disabled' });
    try {
      return { out: await s.run(feeds), ops: s.lastPlacement!.steps.map((st) => st.opType), cpu: s.lastPlacement!.cpu };
    } finally {
      await s.release();
    }
  };
  const want = (await run(bytes, 'js', false)).out;
  const gpu = await run(bytes, 'webgpu', true);
  const wasm = await run(bytes, 'wasm', true);
  for (const [name, got] of [['webgpu', gpu.out], ['wasm', wasm.out]] as const) {
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-4, atol: 1e-5 }), undefined, `${name} ${k}`);
  }
  const unfused = (await run(bytes, 'js', true)).out;
  const fused = await run(webgpuGraphModel(bytes), 'js', false);
  assert.deepEqual(fused.ops, gpu.ops, 'the js session runs the WebGPU graph');
  for (const k of Object.keys(want)) assert.equal(compareTensors(fused.out[k]!, unfused[k]!, { rtol: 0, atol: 0 }), undefined, `js ${k}`);
  return { ops: gpu.ops, cpu: gpu.cpu };
}

test('a residual MatMul + bias + x runs as one MatMul whose epilogue reads x', async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['mm'] },
      { opType: 'Add', inputs: ['mm', 'b'], outputs: ['biased'] },
      { opType: 'Add', inputs: ['x', 'biased'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 5, 16] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([16, 16]), b: rnd([16]) },
  };
  assert.deepEqual(gpuNodes(model), [{ opType: 'MatMul', inputs: ['x', 'w', 'b', 'x'] }]);
  assert.deepEqual(await sameResults(model, { x: rnd([2, 5, 16]) }), { ops: ['MatMul'], cpu: 0 });
});

test('a Gemm tail reading a scale and a residual folds into the Gemm; an optional C slot stays empty', async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Gemm', inputs: ['a', 'w'], outputs: ['g'], attrs: { transB: 1 } },
      { opType: 'Mul', inputs: ['g', 's'], outputs: ['gs'] },
      { opType: 'Add', inputs: ['r', 'gs'], outputs: ['sum'] },
      { opType: 'Tanh', inputs: ['sum'], outputs: ['y'] },
    ],
    inputs: [{ name: 'a', dtype: 'float32', dims: [6, 10] }, { name: 's', dtype: 'float32', dims: [7] }, { name: 'r', dtype: 'float32', dims: [6, 7] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([7, 10]) },
  };
  assert.deepEqual(gpuNodes(model), [{ opType: 'Gemm', inputs: ['a', 'w', '', 's', 'r'] }]);
  assert.deepEqual(await sameResults(model, { a: rnd([6, 10]), s: rnd([7]), r: rnd([6, 7]) }), { ops: ['Gemm'], cpu: 0 });
});

test('a tensor that enlarges the product by broadcasting: same answers, the js kernel runs that step', async () => {
  // MatMul [1, 8] + x [3, 8] = [3, 8]: the tiled GEMM's store cannot write more than its product
  const model: WriterModel = {
    nodes: [
      { opType: 'MatMul', inputs: ['v', 'w'], outputs: ['mm'] },
      { opType: 'Add', inputs: ['mm', 'x'], outputs: ['y'] },
    ],
    inputs: [{ name: 'v', dtype: 'float32', dims: [1, 4] }, { name: 'x', dtype: 'float32', dims: [3, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([4, 8]) },
  };
  assert.deepEqual(gpuNodes(model).map((n) => n.opType), ['MatMul']);
  assert.deepEqual(await sameResults(model, { v: rnd([1, 4]), x: rnd([3, 8]) }), { ops: ['MatMul'], cpu: 1 });
});

test("a ResNet-style Conv + x -> Relu folds into the Conv; an SE block's pooled scale does not host the feature map's tail", async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { opType: 'Add', inputs: ['c', 'x'], outputs: ['sum'] },
      { opType: 'Relu', inputs: ['sum'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4, 6, 7] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([4, 4, 3, 3]), b: rnd([4]) },
  };
  assert.deepEqual(gpuNodes(model), [{ opType: 'Conv', inputs: ['x', 'w', 'b', 'x'] }]);
  assert.deepEqual(await sameResults(model, { x: rnd([1, 4, 6, 7]) }), { ops: ['Conv'], cpu: 0 });
  // PP-OCR det's RSE: x + x * hardsigmoid(conv(pool(x))); x is read by the pool too, and the
  // pooled conv's [1, C, 1, 1] output must not host a [1, C, H, W] result: a FusedElementwise node
  const se: WriterModel = {
    nodes: [
      { opType: 'Conv', inputs: ['in', 'w0'], outputs: ['x'] },
      { opType: 'GlobalAveragePool', inputs: ['x'], outputs: ['p'] },
      { opType: 'Conv', inputs: ['p', 'w1'], outputs: ['s0'] },
      { opType: 'HardSigmoid', inputs: ['s0'], outputs: ['s'] },
      { opType: 'Mul', inputs: ['x', 's'], outputs: ['xs'] },
      { opType: 'Add', inputs: ['x', 'xs'], outputs: ['y'] },
    ],
    inputs: [{ name: 'in', dtype: 'float32', dims: [1, 3, 5, 6] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w0: rnd([4, 3, 1, 1]), w1: rnd([4, 4, 1, 1]) },
  };
  assert.deepEqual(gpuNodes(se).map((n) => n.opType), ['Conv', 'GlobalAveragePool', 'Conv', 'FusedElementwise']);
  assert.deepEqual(await sameResults(se, { in: rnd([1, 3, 5, 6]) }), { ops: ['Conv', 'GlobalAveragePool', 'Conv', 'FusedElementwise'], cpu: 0 });
});
