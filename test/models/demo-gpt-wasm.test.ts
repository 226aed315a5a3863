// The demo's trained sonnet GPT (int4 blocked QDQ: MatMulNBits on wasm) on the wasm backend against
// onnxruntime-web (wasm, 1 thread) on the same .onnx bytes: full-sequence logits, every past empty,
// for a prompt (MatMulNBits at M = 20) and one token (M = 1). Its weights are small, so by default
// the wasm MatMulNBits runs the float GEMM on dequantized copies (kernels/matmul-nbits/wasm.ts
// F32_COPY_BYTES); KILN_NBITS_F32_BYTES = 0 keeps them packed (the per-row and prefill kernels).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { maxRelDiff } from '../helpers/gpt-reference.ts';
import { testRng } from '../helpers/random.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const rng = testRng(import.meta.url);
const bytes = new Uint8Array(readFileSync('demo/models/sonnets-gpt-int4.onnx'));
const knob = devKnobs;

/** Token ids, mask and positions for a sequence, and empty pasts shaped as the model declares them. */
function feedsFor(s: InferenceSession, ids: readonly number[]): Record<string, AnyTensor> {
  const i64 = (v: readonly number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
  const feeds: Record<string, AnyTensor> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
  for (const m of s.inputMetadata) if (m.name.startsWith('past_key_values')) feeds[m.name] = new Tensor('float32', new Float32Array(0), [1, m.shape[1] as number, 0, m.shape[3] as number]);
  return feeds;
}

test('the demo sonnet GPT (int4) on wasm gives onnxruntime-web\'s logits, weights as float copies and kept packed, 20 tokens and 1', async () => {
  ort.env.wasm.numThreads = 1;
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    for (const copyBytes of [undefined, 0]) {
      if (copyBytes !== undefined) knob.KILN_NBITS_F32_BYTES = copyBytes;
      const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
      delete knob.KILN_NBITS_F32_BYTES;
      try {
        for (const n of [20, 1]) {
          const ids = Array.from({ length: n }, () => rng.int(61));
          const feeds = feedsFor(s, ids);
          const got = (await s.run(feeds, ['logits'])).logits!.data as Float32Array;
          const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'int64' | 'float32', t.data as BigInt64Array | Float32Array, [...t.dims])]));
          const want = (await theirs.run(ortFeeds)).logits!.data as Float32Array;
          assert.equal(got.length, want.length);
          const nbits = s.lastPlacement!.steps.filter((st) => st.opType === 'MatMulNBits');
          assert.ok(nbits.length > 0 && nbits.every((st) => st.implementation === 'wasm'), 'MatMulNBits ran in wasm');
          const d = maxRelDiff(got, want);
          assert.ok(d < 1e-4, `${copyBytes === 0 ? 'packed' : 'float copies'}, ${n} tokens: logits differ by ${d} (seed ${rng.seed})`);
        }
      } finally {
        await s.release();
      }
    }
  } finally {
    await theirs.release();
  }
});
