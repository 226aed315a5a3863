// An activation's fake quantization (kiln.QuantizeDequantize, what the QDQ lowering leaves between
// float ops) runs inside a neighbour on WebGPU (runtime/graph/passes/fuse-elementwise.ts): in the
// store of the DequantConv / MatMulNBits / GlobalAveragePool / Conv that made the value, or, for the
// model input, in the Conv's load of X (a program of its own inside the Conv's step where the tile
// unrolls many loads of x: kernels/webgpu/quant-round-wgsl.ts QUANTIZE_LOAD_SITES). The demo MNIST CNN int8
// and the MobileNetV3-like QDQ model then need at most one dispatch more than their float twins, and
// give exactly the unfused graph's answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Graph } from '../../runtime/graph/ir.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { toWriterModel } from '../../trainer-node/compress/onnx-to-writer.ts';
import { floatTwin } from '../helpers/float-twin.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../helpers/mobilenet-qdq.ts';
import { repoRoot } from '../helpers/paths.ts';
import { buildParityModel } from '../helpers/qdq-parity.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { loadLazyGroup } from '../../kernels/lazy-families.ts';
import '../../runtime/graph/passes/qdq-lowering.ts'; // optimizeGraph needs it loaded, as a session loads it (loadGraphPassesFor)

const rng = testRng(import.meta.url);

/** The graph as ONNX bytes, to load with graphOptimizationLevel 'disabled' (runs exactly these nodes). */
function encodeGraph(bytes: Uint8Array, graph: Graph): Uint8Array {
  const m = readOnnxModel(bytes);
  return encodeOnnxModel({ ...toWriterModel(m, graph, new Map()), opsets: { '': 13, 'com.microsoft': 1, kiln: 1 } });
}

async function dispatchesOf(bytes: Uint8Array, dims: readonly number[]): Promise<number> {
  const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  await s.run({ [s.inputNames[0]!]: randomTensor({ dtype: 'float32', dims, range: [0, 1] }, rng) });
  const d = s.lastPlacement!.dispatches!;
  await s.release();
  return d;
}

/**
 * The lowered graph (every fake quantization a node) and the WebGPU graph (folded), each run as it
 * is on each of `eps`: the same bits on each backend, for inputs over [lo, hi) (some saturate).
 */
async function sameAsUnfused(bytes: Uint8Array, dims: readonly number[], range: [number, number], eps: readonly ('webgpu' | 'js')[] = ['webgpu', 'js']): Promise<{ lowered: Graph; fused: Graph }> {
  await loadLazyGroup('quantized');
  const m = readOnnxModel(bytes);
  const lowered = optimizeGraph(m);
  const fused = optimizeForBackend(m, lowered, 'webgpu');
  const feeds = Array.from({ length: 2 }, () => randomTensor({ dtype: 'float32', dims, range }, rng));
  for (const ep of eps) {
    const outputs: Float32Array[][] = [];
    for (const g of [lowered, fused]) {
      const s = await InferenceSession.create(encodeGraph(bytes, g), { executionProviders: [ep], graphOptimizationLevel: 'disabled' });
      if (ep === 'webgpu') await s.run({ [s.inputNames[0]!]: feeds[0]! });
      if (ep === 'webgpu') assert.equal(s.lastPlacement!.cpu, 0, 'every step on the GPU');
      const got: Float32Array[] = [];
      for (const x of feeds) got.push((await s.run({ [s.inputNames[0]!]: x }))[s.outputNames[0]!]!.data as Float32Array);
      outputs.push(got);
      await s.release();
    }
    for (let i = 0; i < feeds.length; i++) assert.deepEqual(outputs[1]![i], outputs[0]![i], `${ep}: input ${i} differs from the unfused graph`);
    assert.ok(outputs[0]!.some((o) => o.some((v) => v !== 0)), 'a non-trivial output');
  }
  return { lowered, fused };
}

const count = (g: Graph, op: string): number => g.nodes.filter((n) => n.opType === op).length;

test('demo MNIST CNN int8: its four fake quantizations fold (input into the first conv load, the rest into stores), same bits, the float twin\'s dispatches and the input\'s', async () => {
  const bytes = new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', 'mnist-cnn-int8.onnx')));
  const dims = [1, 1, 28, 28];
  const { lowered, fused } = await sameAsUnfused(bytes, dims, [-0.5, 1.5]);
  assert.equal(count(lowered, 'QuantizeDequantize'), 4);
  assert.equal(count(fused, 'QuantizeDequantize') + count(fused, 'FusedElementwise'), 0);
  const convs = fused.nodes.filter((n) => n.opType === 'DequantConv');
  assert.deepEqual(convs.map((n) => n.attrs.has('kiln_prologue_steps')), [true, false], 'the input quantized in the first conv load');
  assert.ok(convs.every((n) => n.attrs.strings('kiln_epilogue_steps')?.[0]?.startsWith('QuantizeDequantize')), 'each conv stores fake-quantized values');
  assert.deepEqual(fused.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => n.attrs.has('kiln_epilogue_steps')), [true, false]);
  const [int8, f32] = [await dispatchesOf(bytes, dims), await dispatchesOf(floatTwin(bytes), dims)];
  console.log(`MNIST CNN WebGPU dispatches per run: int8 ${int8}, float twin ${f32}`);
  // the first conv's tile on this (software) adapter unrolls 60 loads of x, more than QUANTIZE_LOAD_SITES:
  // the input's fake quantization runs once, as a program of its own, not inlined 60 times (5-8 s of JIT)
  assert.equal(int8, f32 + 1);
});

test('MobileNetV3-like QDQ: the pooled fake quantization in GlobalAveragePool\'s store, the logits\' in MatMulNBits\', same bits', async () => {
  const bytes = (await buildParityModel(5)).qdq;
  // WebGPU only: the js forms of these stores are the op cases' (test/ops/fused-elementwise.test.ts), and
  // this model's js run is most of a minute
  const { fused } = await sameAsUnfused(bytes, MOBILENET_INPUT, [-1, 1], ['webgpu']);
  assert.equal(count(fused, 'QuantizeDequantize'), 0);
  const pools = fused.nodes.filter((n) => n.opType === 'GlobalAveragePool' && n.attrs.has('kiln_epilogue_steps'));
  assert.equal(pools.length, 1, 'the classifier pool');
  assert.ok(fused.nodes.find((n) => n.opType === 'MatMulNBits')!.attrs.has('kiln_epilogue_steps'));
  const [int8, f32] = [await dispatchesOf(bytes, MOBILENET_INPUT), await dispatchesOf(floatModel(buildMobileNet(5), false), MOBILENET_INPUT)];
  console.log(`MobileNetV3-like WebGPU dispatches per run: int8 ${int8}, float twin ${f32}`);
  // the input's QuantizeLinear runs as a program of its own inside the first QLinearConv's step when
  // the adapter's tile reads x many times (kernels/qlinear-conv/webgpu.ts): one more then
  assert.ok(int8 === f32 || int8 === f32 + 1, `int8 ${int8} dispatches, float twin ${f32}`);
});

test('a fake quantization stays a node where no neighbour can take it: read twice, or feeding a graph output', async () => {
  const s = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const z = new Tensor('uint8', Uint8Array.of(128), []);
  const w = randomTensor({ dtype: 'float32', dims: [4, 2, 3, 3], range: [-1, 1] }, rng);
  const graph = (twoReaders: boolean, exposed: boolean): Uint8Array => encodeOnnxModel({
    nodes: [
      { opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] },
      { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['xq'] },
      { opType: 'Conv', inputs: ['xq', 'w'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
      ...(twoReaders ? [{ opType: 'Conv', inputs: ['xq', 'w'], outputs: ['y2'], attrs: { pads: [1, 1, 1, 1] } }] : []),
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 2, 5, 5] }],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(twoReaders ? [{ name: 'y2', dtype: 'float32' as const }] : []), ...(exposed ? [{ name: 'xq', dtype: 'float32' as const }] : [])],
    initializers: { s: s(0.05), z, w },
    opsets: { '': 13 },
  });
  const gpu = (bytes: Uint8Array): Graph => { const m = readOnnxModel(bytes); return optimizeForBackend(m, optimizeGraph(m), 'webgpu'); };
  assert.equal(count(gpu(graph(false, false)), 'QuantizeDequantize'), 0, 'one Conv reads it: in its load');
  assert.equal(count(gpu(graph(true, false)), 'QuantizeDequantize'), 1, 'two readers');
  assert.equal(count(gpu(graph(false, true)), 'QuantizeDequantize'), 1, 'a graph output');
});
