// Decomposed self-attention (BERT/GPT exports) becomes com.microsoft MultiHeadAttention on WebGPU,
// one flash dispatch reading Q, K and V in place: the same answers as the model with the graph
// passes off and as onnxruntime-web; exact or nothing (intermediates read elsewhere, a softmax
// over another axis, a scale or mask computed at run time leave the ops as they are).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { BERT_SMALL, encoderWorkload } from '../../bench/page/transformer.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { webgpuGraphModel } from '../helpers/webgpu-graph.ts';
import { randomTensor } from '../ops/op-harness.ts';
import '../../runtime/graph/passes/attention-passes.ts'; // optimizeForBackend needs it loaded, as a session loads it (loadGraphPassesFor)

ort.env.wasm.numThreads = 1;
const rng = testRng(import.meta.url);
const rnd = (dims: number[], range: [number, number] = [-0.5, 0.5]): AnyTensor => randomTensor({ dtype: 'float32', dims, range }, rng);
const i64 = (v: number[]): AnyTensor => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);
const scalar = (v: number): AnyTensor => new Tensor('float32', Float32Array.of(v), []);
const TOL = { rtol: 1e-4, atol: 1e-5 };

function gpuOps(bytes: Uint8Array): string[] {
  const m = readOnnxModel(bytes);
  return optimizeForBackend(m, optimizeGraph(m), 'webgpu').nodes.map((n) => n.opType);
}

async function runKiln(bytes: Uint8Array, backend: 'webgpu' | 'js', feeds: Record<string, AnyTensor>, passes = true) {
  const s = await InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: passes ? 'all' : 'disabled' });
  try {
    const out = await s.run(feeds);
    return { out, ops: s.lastPlacement!.steps.map((st) => st.opType), cpu: s.lastPlacement!.cpu, dispatches: s.lastPlacement!.dispatches };
  } finally {
    await s.release();
  }
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<Record<string, AnyTensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])]));
    const got = await s.run(ortFeeds);
    return Object.fromEntries(Object.entries(got).map(([k, t]) => [k, new Tensor('float32', t.data as Float32Array, t.dims)]));
  } finally {
    await s.release();
  }
}

/** WebGPU (recognized) against WebGPU with the passes off, onnxruntime-web, and the WebGPU graph on js against js unfused. */
async function sameAnswers(bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<{ ops: string[]; dispatches: number | undefined }> {
  const fused = await runKiln(bytes, 'webgpu', feeds);
  assert.equal(fused.cpu, 0, 'every step on the GPU');
  const blocked = await runKiln(bytes, 'webgpu', feeds, false);
  const theirs = await runOrt(bytes, feeds);
  const jsFused = await runKiln(webgpuGraphModel(bytes), 'js', feeds, false);
  const jsPlain = await runKiln(bytes, 'js', feeds);
  for (const k of Object.keys(theirs)) {
    assert.equal(compareTensors(fused.out[k]!, blocked.out[k]!, TOL), undefined, `webgpu vs passes off: ${k}`);
    assert.equal(compareTensors(fused.out[k]!, theirs[k]!, TOL), undefined, `webgpu vs onnxruntime-web: ${k}`);
    assert.equal(compareTensors(jsFused.out[k]!, jsPlain.out[k]!, TOL), undefined, `js: the recognized graph vs the ops: ${k}`);
  }
  return { ops: fused.ops, dispatches: fused.dispatches };
}

test('the bench BERT encoder (2 layers, hidden 128): 2 MultiHeadAttention nodes, 18 dispatches per run (34 before)', async () => {
  const bert = encoderWorkload(BERT_SMALL);
  assert.ok('bytes' in bert.onnx);
  const bytes = bert.onnx.bytes;
  assert.equal(gpuOps(bytes).filter((o) => o === 'MultiHeadAttention').length, 2);
  const dims = bert.inputDims(1);
  const r = await sameAnswers(bytes, { embeddings: rnd(dims, [-1, 1]) });
  // per layer: Q, K, V MatMuls, attention, O MatMul + residual, LayerNorm, FFN1 + Gelu, FFN2 + residual, LayerNorm
  assert.equal(r.dispatches, 18);
});

/** A GPT-2-like block: LayerNorm, causal self-attention (a constant [1, 1, S, S] mask, scale as Mul), output projection, residual. */
function gptBlock(S: number, D: number, N: number, opts: { scoresOut?: boolean; axis?: number; scaleInput?: boolean } = {}): WriterModel {
  const H = D / N;
  const causal = new Float32Array(S * S).map((_, i) => (i % S > Math.floor(i / S) ? -10000 : 0));
  const nodes: WriterNode[] = [{ opType: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['h'], attrs: { axis: -1 } }];
  for (const [p, perm] of [['q', [0, 2, 1, 3]], ['k', [0, 2, 3, 1]], ['v', [0, 2, 1, 3]]] as const) {
    nodes.push(
      { opType: 'MatMul', inputs: ['h', `w${p}`], outputs: [`${p}mm`] },
      { opType: 'Add', inputs: [`${p}mm`, `b${p}`], outputs: [p] },
      { opType: 'Reshape', inputs: [p, 'heads'], outputs: [`${p}4`] },
      { opType: 'Transpose', inputs: [`${p}4`], outputs: [`${p}t`], attrs: { perm: [...perm] } },
    );
  }
  nodes.push(
    { opType: 'MatMul', inputs: ['qt', 'kt'], outputs: ['scores'] },
    { opType: 'Mul', inputs: ['scale', 'scores'], outputs: ['scaled'] },
    { opType: 'Add', inputs: ['scaled', 'mask'], outputs: ['masked'] },
    { opType: 'Softmax', inputs: ['masked'], outputs: ['probs'], attrs: { axis: opts.axis ?? -1 } },
    { opType: 'MatMul', inputs: ['probs', 'vt'], outputs: ['ctx'] },
    { opType: 'Transpose', inputs: ['ctx'], outputs: ['ctxt'], attrs: { perm: [0, 2, 1, 3] } },
    { opType: 'Reshape', inputs: ['ctxt', 'merged'], outputs: ['ctx3'] },
    { opType: 'MatMul', inputs: ['ctx3', 'wo'], outputs: ['omm'] },
    { opType: 'Add', inputs: ['omm', 'bo'], outputs: ['o'] },
    { opType: 'Add', inputs: ['x', 'o'], outputs: ['y'] },
  );
  return {
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, S, D] }, ...(opts.scaleInput ? [{ name: 'scale', dtype: 'float32' as const, dims: [] }] : [])],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(opts.scoresOut ? [{ name: 'scores', dtype: 'float32' as const }] : [])],
    initializers: {
      g: rnd([D], [0.5, 1.5]), b: rnd([D]), wq: rnd([D, D]), wk: rnd([D, D]), wv: rnd([D, D]), wo: rnd([D, D]),
      bq: rnd([D]), bk: rnd([D]), bv: rnd([D]), bo: rnd([D]), heads: i64([0, 0, N, H]), merged: i64([0, 0, D]),
      ...(opts.scaleInput ? {} : { scale: scalar(1 / Math.sqrt(H)) }), mask: new Tensor('float32', causal, [1, 1, S, S]),
    },
    opsets: { '': 17 },
  };
}

test('a GPT-2-like causal block: one MultiHeadAttention with the mask as attention_bias, the residual in the output MatMul', async () => {
  const bytes = encodeOnnxModel(gptBlock(24, 32, 4));
  assert.deepEqual(gpuOps(bytes), ['LayerNormalization', 'MatMul', 'MatMul', 'MatMul', 'Reshape', 'Reshape', 'Reshape', 'MultiHeadAttention', 'Reshape', 'Reshape', 'MatMul']);
  const r = await sameAnswers(bytes, { x: rnd([1, 24, 32], [-2, 2]) });
  assert.equal(r.dispatches, 6);
});

test('exact or nothing: scores read elsewhere, a softmax over another axis, a scale fed at run time stay decomposed', () => {
  const none = (m: WriterModel): void => assert.ok(!gpuOps(encodeOnnxModel(m)).includes('MultiHeadAttention'));
  none(gptBlock(8, 16, 2, { scoresOut: true }));
  none(gptBlock(8, 16, 2, { axis: 2 }));
  none(gptBlock(8, 16, 2, { scaleInput: true }));
  // K transposed like Q (a Q.K product that is not attention over the keys)
  const m = gptBlock(8, 16, 2);
  none({ ...m, nodes: m.nodes.map((n) => (n.outputs[0] === 'kt' ? { ...n, attrs: { perm: [0, 2, 1, 3] } } : n)) });
  // a mask computed at run time (BERT's [B, 1, 1, T] padding term) is left alone
  none({ ...m, inputs: [...m.inputs, { name: 'mask', dtype: 'float32', dims: [1, 1, 1, 8] }], initializers: Object.fromEntries(Object.entries(m.initializers as Record<string, AnyTensor>).filter(([k]) => k !== 'mask')) });
});
