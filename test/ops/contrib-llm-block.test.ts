// A decoder-style block as onnxruntime-genai / the transformer optimizer writes LLMs with contrib ops:
// GatherBlockQuantized (int4 embedding table) -> SimplifiedLayerNormalization -> MatMul ->
// RotaryEmbedding -> SkipSimplifiedLayerNormalization -> MatMul -> QuickGelu, built with Kiln's
// ONNX writer; Kiln's backends against onnxruntime-web.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;

const [B, S, H, HEADS, V, MAXPOS, FF, BLOCK] = [2, 5, 64, 4, 40, 16, 96, 32];
const MS = 'com.microsoft';

test('LLM-style block (GatherBlockQuantized, SimplifiedLayerNorm, RotaryEmbedding, SkipSimplifiedLayerNorm, QuickGelu): Kiln cpu, wasm and webgpu give onnxruntime-web\'s answers', async () => {
  const rng = testRng(import.meta.url, 'llm block');
  const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
  const f32 = (dims: number[], scale = 1): AnyTensor => new Tensor('float32', Float32Array.from({ length: size(dims) }, () => rng.range(-1, 1) * scale), dims);
  const half = H / HEADS / 2;
  const angle = (p: number, i: number): number => p / 10000 ** (i / half);
  const initializers = {
    table: new Tensor('int4', Int8Array.from({ length: V * H }, () => Math.floor(rng.range(-8, 8))), [V, H]),
    scales: new Tensor('float32', Float32Array.from({ length: V * (H / BLOCK) }, () => rng.range(0.02, 0.2)), [V, H / BLOCK]),
    g0: f32([H]), w1: f32([H, H], 0.2),
    cos: new Tensor('float32', Float32Array.from({ length: MAXPOS * half }, (_, k) => Math.cos(angle(Math.floor(k / half), k % half))), [MAXPOS, half]),
    sin: new Tensor('float32', Float32Array.from({ length: MAXPOS * half }, (_, k) => Math.sin(angle(Math.floor(k / half), k % half))), [MAXPOS, half]),
    g1: f32([H]), w2: f32([H, FF], 0.2),
  };
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'GatherBlockQuantized', domain: MS, inputs: ['table', 'ids', 'scales'], outputs: ['emb'], attrs: { block_size: BLOCK, gather_axis: 0, quantize_axis: 1 } },
      { opType: 'SimplifiedLayerNormalization', inputs: ['emb', 'g0'], outputs: ['n0'], attrs: { epsilon: 1e-6 } },
      { opType: 'MatMul', inputs: ['n0', 'w1'], outputs: ['q'] },
      { opType: 'RotaryEmbedding', domain: MS, inputs: ['q', 'pos', 'cos', 'sin'], outputs: ['qr'], attrs: { interleaved: 0, num_heads: HEADS, rotary_embedding_dim: H / HEADS } },
      { opType: 'SkipSimplifiedLayerNormalization', domain: MS, inputs: ['qr', 'emb', 'g1'], outputs: ['n1', '', '', 'resid'], attrs: { epsilon: 1e-6 } },
      { opType: 'MatMul', inputs: ['n1', 'w2'], outputs: ['ff'] },
      { opType: 'QuickGelu', domain: MS, inputs: ['ff'], outputs: ['y'], attrs: { alpha: 1.702 } },
    ],
    inputs: [{ name: 'ids', dtype: 'int64', dims: [B, S] }, { name: 'pos', dtype: 'int64', dims: [B, S] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'resid', dtype: 'float32' }],
    initializers,
    opsets: { '': 17, [MS]: 1 },
  });
  const ids = new Tensor('int64', BigInt64Array.from({ length: B * S }, () => BigInt(Math.floor(rng.range(0, V)))), [B, S]);
  const pos = new Tensor('int64', BigInt64Array.from({ length: B * S }, (_, k) => BigInt((k % S) + (k < S ? 0 : 7))), [B, S]);
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = await theirs.run({ ids: new ort.Tensor('int64', ids.data as BigInt64Array, [B, S]), pos: new ort.Tensor('int64', pos.data as BigInt64Array, [B, S]) });
  await theirs.release();
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = await s.run({ ids, pos });
      if (provider === 'webgpu') {
        const steps = s.lastPlacement?.steps ?? [];
        assert.ok(steps.length >= 7 && steps.every((st) => st.device === 'gpu'), `every node runs on the GPU: ${steps.map((st) => st.device).join(', ')}`);
      }
      for (const name of ['y', 'resid']) {
        const w = want[name]!;
        const problem = compareTensors(got[name]!, new Tensor('float32', w.data as Float32Array, [...w.dims]), { rtol: 1e-4, atol: 1e-4 });
        assert.equal(problem, undefined, `${name} on ${provider} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
});
