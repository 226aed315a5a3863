// kiln.KvCacheWrite (generate()'s write of new keys/values at a run-time offset into a cache kept at
// its maximum length): every backend against the reference, the offset fed at run time (not folded),
// and an offset outside the cache named as an error on the CPU backends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const at = (v: number, dtype: 'float32' | 'int32' | 'int64' = 'float32', dims: number[] = [1]): InputSpec => ({ dtype, dims, values: [v], feed: true });
const op = 'KvCacheWrite';
const domain = 'kiln';

const cases: OpCase[] = [
  { name: 'one new row at offset 0', op, domain, inputs: [f32([1, 2, 6, 4]), f32([1, 2, 1, 4]), at(0)], wasmKernel: true },
  { name: 'one new row in the middle', op, domain, inputs: [f32([1, 4, 9, 8]), f32([1, 4, 1, 8]), at(5)], wasmKernel: true },
  { name: 'one new row in the last slot', op, domain, inputs: [f32([1, 3, 7, 16]), f32([1, 3, 1, 16]), at(6)], wasmKernel: true },
  { name: 'a prompt of 5 rows at offset 2, batch 2', op, domain, inputs: [f32([2, 2, 8, 4]), f32([2, 2, 5, 4]), at(2)], wasmKernel: true },
  { name: 'new fills the whole cache', op, domain, inputs: [f32([1, 2, 3, 4]), f32([1, 2, 3, 4]), at(0)], wasmKernel: true },
  // com.microsoft Attention's stacked cache [2, B, H, M, D]: keys and values written in one call
  { name: 'stacked [2, B, H, M, D] cache, one new row in the middle', op, domain, inputs: [f32([2, 1, 3, 9, 8]), f32([2, 1, 3, 1, 8]), at(4)], wasmKernel: true },
  { name: 'stacked cache, a prompt of 4 rows at offset 1, batch 2', op, domain, inputs: [f32([2, 2, 2, 7, 4]), f32([2, 2, 2, 4, 4]), at(1)], wasmKernel: true },
  { name: 'int32 offset (js inside wasm)', op, domain, inputs: [f32([1, 2, 6, 4]), f32([1, 2, 1, 4]), at(3, 'int32')] },
  { name: 'int64 scalar offset', op, domain, inputs: [f32([1, 2, 6, 4]), f32([1, 2, 2, 4]), at(4, 'int64', [])] },
];

const attend = 'KvCacheAttention';
const scale = (v: number): OpCase['attrs'] => ({ scale: v });
// Q [B, H, S, D], K and V [B, H, M, D]: query s sees keys 0 .. offset + s only; the rest of the cache
// holds random values, so reading past the written part changes the answer.
cases.push(
  { name: 'attention, one query at offset 0 (one key)', op: attend, domain, attrs: scale(0.5), inputs: [f32([1, 2, 1, 4]), f32([1, 2, 6, 4]), f32([1, 2, 6, 4]), at(0)], wasmKernel: true },
  { name: 'attention, one query in the middle of the cache', op: attend, domain, attrs: scale(0.35), inputs: [f32([1, 4, 1, 8]), f32([1, 4, 9, 8]), f32([1, 4, 9, 8]), at(5)], wasmKernel: true },
  { name: 'attention, one query at the last slot (the whole cache)', op: attend, domain, attrs: scale(0.25), inputs: [f32([1, 3, 1, 16]), f32([1, 3, 7, 16]), f32([1, 3, 7, 16]), at(6)], wasmKernel: true },
  { name: 'attention, three queries (causal within them), batch 2', op: attend, domain, attrs: scale(0.5), inputs: [f32([2, 2, 3, 4]), f32([2, 2, 8, 4]), f32([2, 2, 8, 4]), at(2)], wasmKernel: true },
  // a bias [B|1, H|1, S, M] on the scores (a fused op's attention_bias); keys past offset + s still unread
  { name: 'attention with a bias per batch and head', op: attend, domain, attrs: scale(0.5), inputs: [f32([2, 2, 1, 4]), f32([2, 2, 6, 4]), f32([2, 2, 6, 4]), at(3), f32([2, 2, 1, 6])], wasmKernel: true },
  { name: 'attention with a bias broadcast over batch and heads, three queries', op: attend, domain, attrs: scale(0.5), inputs: [f32([2, 3, 3, 8]), f32([2, 3, 9, 8]), f32([2, 3, 9, 8]), at(4), f32([1, 1, 3, 9])], wasmKernel: true },
  // prefills: per row on WebGPU below 64 queries, the tiled (flash) form from 64 (one full query tile,
  // then two tiles with a partial last one), head size 64, with and without a bias
  { name: 'attention, prefill of 8 queries at offset 0', op: attend, domain, attrs: scale(0.35), inputs: [f32([1, 2, 8, 16]), f32([1, 2, 12, 16]), f32([1, 2, 12, 16]), at(0)], wasmKernel: true },
  { name: 'attention, 70 queries at offset 20, batch 2 (tiled on WebGPU: two query tiles)', op: attend, domain, attrs: scale(0.25), inputs: [f32([2, 2, 70, 8]), f32([2, 2, 96, 8]), f32([2, 2, 96, 8]), at(20)], wasmKernel: true },
  { name: 'attention, 64 queries, head size 64, a bias per head (tiled on WebGPU)', op: attend, domain, attrs: scale(0.125), inputs: [f32([1, 3, 64, 64]), f32([1, 3, 72, 64]), f32([1, 3, 72, 64]), at(7), f32([1, 3, 64, 72])], wasmKernel: true },
  { name: 'attention, 40 queries, a bias broadcast over heads (per row on WebGPU)', op: attend, domain, attrs: scale(0.25), inputs: [f32([2, 2, 40, 8]), f32([2, 2, 48, 8]), f32([2, 2, 48, 8]), at(3), f32([2, 1, 40, 48])], wasmKernel: true },
  // Q and the stacked cache [2, B, H, M, D] (V omitted: its second half); both halves random past the written part
  { name: 'attention over a stacked cache, one query in the middle', op: attend, domain, attrs: scale(0.35), inputs: [f32([1, 4, 1, 8]), f32([2, 1, 4, 9, 8]), { ...f32([]), omit: true }, at(5)], wasmKernel: true },
  { name: 'attention over a stacked cache, three queries, batch 2, a bias per head', op: attend, domain, attrs: scale(0.5), inputs: [f32([2, 2, 3, 4]), f32([2, 2, 2, 8, 4]), { ...f32([]), omit: true }, at(2), f32([1, 2, 3, 8])], wasmKernel: true },
  { name: 'attention over a stacked cache, 70 queries at offset 10 (tiled on WebGPU)', op: attend, domain, attrs: scale(0.25), inputs: [f32([1, 2, 70, 8]), f32([2, 1, 2, 96, 8]), { ...f32([]), omit: true }, at(10)], wasmKernel: true },
  { name: 'attention, int64 offset (js inside wasm)', op: attend, domain, attrs: scale(1), inputs: [f32([1, 2, 1, 4]), f32([1, 2, 5, 4]), f32([1, 2, 5, 4]), at(3, 'int64')] },
);

runOpCases('kv-cache-write', cases);

test('KvCacheWrite: an offset that puts new rows outside the cache, or is not whole, is INVALID_ARGUMENT on the CPU backends', async () => {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: op, domain, inputs: ['cache', 'new', 'offset'], outputs: ['y'] }],
    inputs: [{ name: 'cache', dtype: 'float32', dims: [1, 2, 4, 3] }, { name: 'new', dtype: 'float32', dims: [1, 2, 1, 3] }, { name: 'offset', dtype: 'float32', dims: [1] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    opsets: { '': 17, kiln: 1 },
  });
  const cache = new Tensor('float32', new Float32Array(24).fill(1), [1, 2, 4, 3]);
  const update = new Tensor('float32', new Float32Array(6).fill(2), [1, 2, 1, 3]);
  for (const provider of ['wasm', 'js'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      for (const bad of [4, -1, 1.5]) {
        await assert.rejects(s.run({ cache, new: update, offset: new Tensor('float32', [bad], [1]) }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /KvCacheWrite offset/.test(e.message), `${provider}, offset ${bad}`);
      }
      const y = (await s.run({ cache, new: update, offset: new Tensor('float32', [3], [1]) })).y!;
      assert.deepEqual(Array.from(y.data as Float32Array), [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2], provider);
    } finally {
      await s.release();
    }
  }
});
