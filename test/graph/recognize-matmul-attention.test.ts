// MatMul/Softmax attention becomes one ONNX Attention node on the wasm backend
// (runtime/graph/passes/recognize-matmul-attention.ts), with the decomposed graph's answers; near
// misses (another softmax axis, a shared intermediate, a non-constant scale) stay as written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { generate, InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';

const rng = testRng(import.meta.url);
const rnd = (dims: number[]): Tensor<'float32'> => randomTensor({ dtype: 'float32', dims, range: [-1, 1] }, rng) as Tensor<'float32'>;
const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', new Float32Array([v]), []);
const B = 2, N = 3, S = 7, T = 9, H = 8, Hv = 5;

interface Form {
  readonly scale?: 'mul' | 'div' | 'none' | 'input';
  /** the mask's dims, undefined for none */
  readonly mask?: number[];
  readonly maskFirst?: boolean;
  readonly axis?: number;
  /** the scores are also a graph output (shared intermediate) */
  readonly shareScores?: boolean;
}

function model(f: Form): { model: WriterModel; feeds: Record<string, Tensor<'float32'>> } {
  const feeds: Record<string, Tensor<'float32'>> = { q: rnd([B, N, S, H]), k: rnd([B, N, T, H]), v: rnd([B, N, T, Hv]) };
  const nodes: WriterModel['nodes'][number][] = [
    { opType: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
    { opType: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] },
  ];
  let x = 'qk';
  if (f.scale === 'mul' || f.scale === 'input') nodes.push({ opType: 'Mul', inputs: ['qk', 'c'], outputs: ['scaled'] });
  if (f.scale === 'div') nodes.push({ opType: 'Div', inputs: ['qk', 'c'], outputs: ['scaled'] });
  if (f.scale !== 'none') x = 'scaled';
  if (f.mask) {
    const m = rnd(f.mask);
    // some keys masked as exporters do (a large negative), the rest small additive biases; a mask
    // broadcast along the keys keeps small values (a whole row at -1e9 rounds every f32 score of
    // the decomposed graph to one multiple of 64: uniform weights, a rounding artefact)
    const d = m.data;
    if (f.mask.at(-1)! > 1) for (let i = 0; i < d.length; i += 3) d[i] = -1e9;
    feeds.mask = m;
    nodes.push({ opType: 'Add', inputs: f.maskFirst ? ['mask', x] : [x, 'mask'], outputs: ['scores'] });
    x = 'scores';
  }
  nodes.push({ opType: 'Softmax', inputs: [x], outputs: ['probs'], attrs: { axis: f.axis ?? -1 } }, { opType: 'MatMul', inputs: ['probs', 'v'], outputs: ['y'] });
  if (f.scale === 'input') feeds.c = scalar(0.3);
  const initializers: Record<string, Tensor<'float32'>> = f.scale === 'mul' ? { c: scalar(0.35) } : f.scale === 'div' ? { c: scalar(Math.sqrt(H)) } : {};
  const outputs = [{ name: 'y', dtype: 'float32' as const }, ...(f.shareScores ? [{ name: x, dtype: 'float32' as const }] : [])];
  return {
    model: { nodes, inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: 'float32', dims: t.dims })), outputs, initializers, opsets: { '': 17 } },
    feeds,
  };
}

/** The wasm session (passes on) against the decomposed graph on js; whether one Attention step ran on the wasm kernel. */
async function check(f: Form, fused: boolean, wasmKernel = fused): Promise<void> {
  const { model: m, feeds } = model(f);
  const bytes = encodeOnnxModel(m);
  const plain = await InferenceSession.create(bytes, { executionProviders: ['js'], graphOptimizationLevel: 'disabled' });
  const want = await plain.run(feeds);
  await plain.release();
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  try {
    const got = await s.run(feeds);
    const steps = s.lastPlacement!.steps;
    const attention = steps.filter((st) => st.opType === 'Attention');
    assert.equal(attention.length, fused ? 1 : 0, `Attention steps: ${steps.map((st) => st.opType).join(', ')}`);
    if (fused) assert.equal(attention[0]!.implementation, wasmKernel ? 'wasm' : 'js');
    if (fused) assert.ok(!steps.some((st) => st.opType === 'Softmax'), 'the Softmax is gone');
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 2e-4, atol: 2e-5 }), undefined, k);
  } finally {
    await s.release();
  }
}

test('MatMul/Softmax attention runs as one wasm Attention: Mul or Div scale, masks [B, 1, S, T], [S, T], [B, N, S, T], either Add order', async () => {
  await check({ scale: 'mul', mask: [B, 1, S, T] }, true);
  await check({ scale: 'div', mask: [S, T], maskFirst: true }, true);
  await check({ scale: 'mul', mask: [B, N, S, T] }, true);
  await check({ scale: 'none' }, true);
  await check({ scale: 'div', axis: 3 }, true);
});

test('a mask broadcast along the keys ([B, 1, S, 1]) keeps the Add\'s meaning (js runs the fused node)', async () => {
  await check({ scale: 'mul', mask: [B, 1, S, 1] }, true, false);
});

test('near misses stay decomposed: another softmax axis, a shared intermediate, a scale fed at run time', async () => {
  await check({ scale: 'mul', mask: [B, 1, S, T], axis: 2 }, false);
  await check({ scale: 'mul', mask: [B, 1, S, T], shareScores: true }, false);
  await check({ scale: 'input', mask: [B, 1, S, T] }, false);
});

test('the trained demo GPT: the fused wasm prefill gives the decomposed graph\'s logits and the same greedy tokens', async () => {
  const bytes = readFileSync(new URL('../../demo/models/sonnets-gpt-int4.kiln', import.meta.url));
  const fused = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  const plain = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }], graphOptimizationLevel: 'disabled' });
  try {
    const ids = Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % 50);
    const a = await generate(fused, { inputIds: ids, maxNewTokens: 12, topK: 1 });
    assert.equal(fused.lastPlacement!.steps.filter((st) => st.opType === 'Attention' && st.implementation === 'wasm').length, 2, 'both layers ran the fused kernel');
    const b = await generate(plain, { inputIds: ids, maxNewTokens: 12, topK: 1 });
    assert.deepEqual(a, b);
  } finally {
    await fused.release();
    await plain.release();
  }
});
