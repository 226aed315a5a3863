// The WebGPU elementwise fusion pass: chains and small DAGs of elementwise ops become one
// kiln.FusedElementwise node (one dispatch) with the unfused graph's answers on every backend;
// values read outside the group, values of unknown type and runtime Clip bounds stop it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { compareTensors } from '../helpers/compare.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { readFileSync } from 'node:fs';

const rng = testRng(import.meta.url);
const rnd = (dims: number[], range: [number, number] = [-1, 1]): AnyTensor => randomTensor({ dtype: 'float32', dims, range }, rng);
const scalar = (v: number, dims: number[] = [1]): Tensor<'float32'> => new Tensor('float32', new Float32Array([v]), dims);

/** Node op types after the shared passes and the WebGPU-only ones. */
function gpuOpTypes(model: WriterModel): string[] {
  const m = readOnnxModel(encodeOnnxModel(model));
  return optimizeForBackend(m, optimizeGraph(m), 'webgpu').nodes.map((n) => n.opType);
}

/** Each backend's optimized session gives the unoptimized js session's answers; returns the WebGPU steps' op types. */
async function sameResults(model: WriterModel, feeds: Record<string, AnyTensor>): Promise<string[]> {
  const bytes = encodeOnnxModel(model);
  const plain = await InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  const want = await plain.run(feeds);
  await plain.release();
  let gpuSteps: string[] = [];
  for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
    const opt = await InferenceSession.create(bytes, { executionProviders: [backend] });
    const got = await opt.run(feeds);
    if (backend === 'webgpu') {
      assert.equal(opt.lastPlacement?.cpu, 0, 'every step on the GPU');
      gpuSteps = opt.lastPlacement!.steps.map((s) => s.opType);
    }
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-5, atol: 1e-6 }), undefined, `${backend} ${k}`);
    await opt.release();
  }
  return gpuSteps;
}

test("PaddleOCR v4's Conv -> Mul -> Add -> HardSwish (decomposed) -> Mul -> Add runs as one Conv with an epilogue", async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { opType: 'Mul', inputs: ['k0', 'c'], outputs: ['m0'] },
      { opType: 'Add', inputs: ['m0', 'k1'], outputs: ['a0'] },
      { opType: 'Add', inputs: ['a0', 'three'], outputs: ['h0'] },
      { opType: 'Clip', inputs: ['h0', 'zero', 'six'], outputs: ['h1'] },
      { opType: 'Mul', inputs: ['a0', 'h1'], outputs: ['h2'] },
      { opType: 'Div', inputs: ['h2', 'six'], outputs: ['h3'] },
      { opType: 'Mul', inputs: ['k2', 'h3'], outputs: ['m1'] },
      { opType: 'Add', inputs: ['m1', 'k3'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 10] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      w: rnd([8, 3, 3, 3]), b: rnd([8]), k0: scalar(1.384), k1: scalar(0.586), k2: scalar(0.1675), k3: scalar(3.47e-5),
      three: scalar(3, []), zero: scalar(0, []), six: scalar(6, []),
    },
  };
  // the whole tail runs in the Conv's epilogue: one dispatch
  assert.deepEqual(gpuOpTypes(model), ['Conv']);
  assert.deepEqual(await sameResults(model, { x: rnd([1, 3, 8, 10], [-3, 3]) }), ['Conv']);
  // the Conv's output also read elsewhere: the tail is a FusedElementwise node of its own
  const shared = { ...model, outputs: [...model.outputs, { name: 'c', dtype: 'float32' as const }] };
  assert.deepEqual(gpuOpTypes(shared), ['Conv', 'FusedElementwise']);
  assert.deepEqual(await sameResults(shared, { x: rnd([1, 3, 8, 10], [-3, 3]) }), ['Conv', 'FusedElementwise']);
});

test('a DAG with broadcasting, Where and Cast becomes one FusedElementwise node', async () => {
  const model: WriterModel = {
    nodes: [
      { opType: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
      { opType: 'Mul', inputs: ['x', 's'], outputs: ['swish'] },
      { opType: 'Add', inputs: ['swish', 'bias'], outputs: ['biased'] },
      { opType: 'Cast', inputs: ['n'], outputs: ['nf'], attrs: { to: 1 } },
      { opType: 'Where', inputs: ['mask', 'biased', 'nf'], outputs: ['picked'] },
      { opType: 'LeakyRelu', inputs: ['picked'], outputs: ['y'], attrs: { alpha: 0.2 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4, 5] }, { name: 'mask', dtype: 'bool', dims: [5] }, { name: 'n', dtype: 'int32', dims: [2, 4, 5] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { bias: rnd([4, 1]) },
  };
  assert.deepEqual(gpuOpTypes(model), ['FusedElementwise']);
  const feeds = {
    x: rnd([2, 4, 5], [-4, 4]),
    mask: new Tensor('bool', Uint8Array.from({ length: 5 }, (_, i) => i % 2), [5]),
    n: new Tensor('int32', Int32Array.from({ length: 40 }, () => Math.floor(rng.range(-5, 6))), [2, 4, 5]),
  };
  assert.deepEqual(await sameResults(model, feeds), ['FusedElementwise']);
});

test('values read outside the group, values of unknown type and runtime Clip bounds stop the fusion', () => {
  const f32 = (name: string, dims = [3, 4]) => ({ name, dtype: 'float32' as const, dims });
  // the Relu's result is also a graph output: it must stay a tensor of its own
  const shared: WriterModel = {
    nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['r'] }, { opType: 'Sigmoid', inputs: ['r'], outputs: ['y'] }],
    inputs: [f32('x')], outputs: [f32('y'), f32('r')],
  };
  assert.deepEqual(gpuOpTypes(shared), ['Relu', 'Sigmoid']);
  // Clip with a bound computed at run time
  const runtimeBound: WriterModel = {
    nodes: [{ opType: 'Exp', inputs: ['x'], outputs: ['e'] }, { opType: 'Clip', inputs: ['e', 'lo'], outputs: ['y'] }],
    inputs: [f32('x'), f32('lo', [])], outputs: [f32('y')],
  };
  assert.deepEqual(gpuOpTypes(runtimeBound), ['Exp', 'Clip']);
  // int32 arithmetic is not float32: left as it is
  const ints: WriterModel = {
    nodes: [{ opType: 'Add', inputs: ['a', 'a'], outputs: ['s'] }, { opType: 'Mul', inputs: ['s', 'a'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'int32', dims: [4] }], outputs: [{ name: 'y', dtype: 'int32' }],
  };
  assert.deepEqual(gpuOpTypes(ints), ['Add', 'Mul']);
  // the CPU backends keep the single ops (their wasm kernels)
  const m = readOnnxModel(encodeOnnxModel(ints));
  const g = optimizeGraph(m);
  assert.equal(optimizeForBackend(m, g, 'wasm'), g);
});

// Dispatches per run on WebGPU (deterministic, so asserted exactly): `before` measured at commit
// 54f4438, before this pass and the LayerNorm/Gelu recognition, with bench/node/webgpu-dispatches.ts;
// `now` with the epilogues' extra tensors (rec's residual MatMul + bias + x: 86 -> 82). A change
// that adds or removes dispatches shows here (update `now` with the reason in docs/decisions.md).
const MODELS = {
  'ch_PP-OCRv4_rec_infer.onnx': { dims: [1, 3, 48, 160], before: 287, now: 82 },
  'ch_PP-OCRv4_det_infer.onnx': { dims: [1, 3, 96, 128], before: 235, now: 95 },
};

for (const [file, { dims, before, now }] of Object.entries(MODELS)) {
  test(`${file}: ${now} WebGPU dispatches per run (${before} unfused)`, async () => {
    const session = await InferenceSession.create(new Uint8Array(readFileSync(paddleOcrModel(file))), { executionProviders: ['webgpu'] });
    try {
      await session.run({ [session.inputNames[0]!]: rnd(dims) });
      const p = session.lastPlacement!;
      assert.equal(p.cpu, 0);
      assert.equal(p.dispatches, now, `${p.dispatches} dispatches per run`);
    } finally {
      await session.release();
    }
  });
}
