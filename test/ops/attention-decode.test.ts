// A decode loop step equals recomputing the whole sequence: GroupQueryAttention run on a prompt of
// 300 tokens, its present fed back as past for token 301, gives the last row and the present that
// one 301-token prompt gives; on the CPU fast path and on WebGPU (the split-KV decode kernel).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

const Nq = 4, Nkv = 2, H = 16, PROMPT = 300;

function gqaModel(total: number, withPast: boolean): Uint8Array {
  const feeds = ['q', 'k', 'v', ...(withPast ? ['pk', 'pv'] : []), 'seqlens'];
  return encodeOnnxModel({
    nodes: [{
      opType: 'GroupQueryAttention', domain: 'com.microsoft',
      inputs: ['q', 'k', 'v', withPast ? 'pk' : '', withPast ? 'pv' : '', 'seqlens', 'total'],
      outputs: ['out', 'present_k', 'present_v'],
      attrs: { num_heads: Nq, kv_num_heads: Nkv },
    }],
    inputs: feeds.map((name) => ({ name, dtype: name === 'seqlens' ? 'int32' as const : 'float32' as const })),
    outputs: ['out', 'present_k', 'present_v'].map((name) => ({ name, dtype: 'float32' as const })),
    initializers: { total: new Tensor('int32', Int32Array.from([total]), []) },
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

const rows = (data: Float32Array, width: number, from: number, to: number, dims: number[]): AnyTensor => new Tensor('float32', data.slice(from * width, to * width), dims);

test('GroupQueryAttention: prompt then one decode step == one prompt of 301 tokens (cpu and webgpu)', async () => {
  const rng = testRng(import.meta.url, 'gqa decode');
  const S = PROMPT + 1;
  const draw = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.range(-1, 1));
  const q = draw(S * Nq * H), k = draw(S * Nkv * H), v = draw(S * Nkv * H);
  for (const provider of ['cpu', 'webgpu'] as const) {
    const full = await InferenceSession.create(gqaModel(S, false), { executionProviders: [provider] });
    const prompt = await InferenceSession.create(gqaModel(PROMPT, false), { executionProviders: [provider] });
    const step = await InferenceSession.create(gqaModel(S, true), { executionProviders: [provider] });
    try {
      const want = await full.run({ q: rows(q, Nq * H, 0, S, [1, S, Nq * H]), k: rows(k, Nkv * H, 0, S, [1, S, Nkv * H]), v: rows(v, Nkv * H, 0, S, [1, S, Nkv * H]), seqlens: new Tensor('int32', Int32Array.from([S - 1]), [1]) });
      const first = await prompt.run({ q: rows(q, Nq * H, 0, PROMPT, [1, PROMPT, Nq * H]), k: rows(k, Nkv * H, 0, PROMPT, [1, PROMPT, Nkv * H]), v: rows(v, Nkv * H, 0, PROMPT, [1, PROMPT, Nkv * H]), seqlens: new Tensor('int32', Int32Array.from([PROMPT - 1]), [1]) });
      const next = await step.run({
        q: rows(q, Nq * H, PROMPT, S, [1, 1, Nq * H]), k: rows(k, Nkv * H, PROMPT, S, [1, 1, Nkv * H]), v: rows(v, Nkv * H, PROMPT, S, [1, 1, Nkv * H]),
        pk: first.present_k!, pv: first.present_v!, seqlens: new Tensor('int32', Int32Array.from([S - 1]), [1]),
      });
      if (provider === 'webgpu') assert.equal(step.lastPlacement?.cpu ?? 1, 0, 'the decode step fell back to the CPU');
      const lastRow = rows(want.out!.data as Float32Array, Nq * H, PROMPT, S, [1, 1, Nq * H]);
      const tol = { rtol: 1e-4, atol: 1e-5 };
      assert.equal(compareTensors(next.out!, lastRow, tol), undefined, `${provider}: decode output`);
      assert.equal(compareTensors(next.present_k!, want.present_k!, tol), undefined, `${provider}: present_k`);
      assert.equal(compareTensors(next.present_v!, want.present_v!, tol), undefined, `${provider}: present_v`);
    } finally {
      await full.release();
      await prompt.release();
      await step.release();
    }
  }
});
