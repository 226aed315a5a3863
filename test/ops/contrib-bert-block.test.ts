// A BERT layer as Optimum / onnxruntime's transformer optimizer writes it with contrib ops:
// EmbedLayerNormalization -> MatMul -> SkipLayerNormalization -> MatMul -> FastGelu -> MatMul ->
// SkipLayerNormalization, built with Kiln's ONNX writer; Kiln's backends against onnxruntime-web.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;

const [B, S, H, V, FF] = [2, 7, 32, 50, 128];
const MS = 'com.microsoft';

test('Optimum-style BERT block (EmbedLayerNorm, SkipLayerNorm, FastGelu): Kiln cpu, wasm and webgpu give onnxruntime-web\'s answers', async () => {
  const rng = testRng(import.meta.url, 'bert block');
  const f32 = (dims: number[], scale = 1): AnyTensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.range(-1, 1) * scale), dims);
  const i32 = (dims: number[], hi: number): AnyTensor => new Tensor('int32', Int32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.floor(rng.range(0, hi))), dims);
  const mask = new Tensor('int32', Int32Array.from({ length: B * S }, (_, i) => (i % S < S - (i < S ? 0 : 2) ? 1 : 0)), [B, S]);
  const initializers = {
    word: f32([V, H]), pos: f32([S, H]), seg: f32([2, H]), g0: f32([H]), b0: f32([H], 0.1),
    w1: f32([H, H], 0.2), g1: f32([H]), b1: f32([H], 0.1), bias1: f32([H], 0.1),
    w2: f32([H, FF], 0.2), bias2: f32([FF], 0.1), w3: f32([FF, H], 0.1),
    g2: f32([H]), b2: f32([H], 0.1), bias3: f32([H], 0.1),
  };
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'EmbedLayerNormalization', domain: MS, inputs: ['ids', 'segs', 'word', 'pos', 'seg', 'g0', 'b0', 'mask'], outputs: ['emb', 'mask_index'], attrs: { epsilon: 1e-12 } },
      { opType: 'MatMul', inputs: ['emb', 'w1'], outputs: ['h1'] },
      { opType: 'SkipLayerNormalization', domain: MS, inputs: ['h1', 'emb', 'g1', 'b1', 'bias1'], outputs: ['ln1'], attrs: { epsilon: 1e-12 } },
      { opType: 'MatMul', inputs: ['ln1', 'w2'], outputs: ['ff'] },
      { opType: 'FastGelu', domain: MS, inputs: ['ff', 'bias2'], outputs: ['act'] },
      { opType: 'MatMul', inputs: ['act', 'w3'], outputs: ['ff2'] },
      { opType: 'SkipLayerNormalization', domain: MS, inputs: ['ff2', 'ln1', 'g2', 'b2', 'bias3'], outputs: ['y', '', '', 'sum'], attrs: { epsilon: 1e-12 } },
    ],
    inputs: [{ name: 'ids', dtype: 'int32', dims: [B, S] }, { name: 'segs', dtype: 'int32', dims: [B, S] }, { name: 'mask', dtype: 'int32', dims: [B, S] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'sum', dtype: 'float32' }, { name: 'mask_index', dtype: 'int32' }],
    initializers,
    opsets: { '': 17, [MS]: 1 },
  });
  const feeds = { ids: i32([B, S], V), segs: i32([B, S], 2), mask };
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = await theirs.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'int32', t.data as Int32Array, [...t.dims])])));
  await theirs.release();
  assert.deepEqual(Array.from(want.mask_index!.data as Int32Array), [S, S - 2]);
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = await s.run(feeds);
      if (provider === 'webgpu') {
        const steps = s.lastPlacement?.steps ?? [];
        assert.ok(steps.length >= 7 && steps.every((st) => st.device === 'gpu'), `every node runs on the GPU: ${steps.map((st) => `${st.device}`).join(', ')}`);
      }
      for (const name of ['y', 'sum', 'mask_index']) {
        const w = want[name]!;
        const problem = compareTensors(got[name]!, new Tensor(w.type as 'float32', w.data as Float32Array, [...w.dims]), { rtol: 1e-4, atol: 1e-4 });
        assert.equal(problem, undefined, `${name} on ${provider} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
});
