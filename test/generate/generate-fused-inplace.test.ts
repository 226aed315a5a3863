// generate()'s in-place KV cache for decoders whose attention is one fused op with past/present
// (issue 13): com.microsoft MultiHeadAttention (Optimum / onnxruntime's transformer optimizer) and
// GroupQueryAttention (onnxruntime-genai: seqlens_k and total_sequence_length from attention_mask).
// Probe: on js, wasm and WebGPU, each decode step of the in-place graph gives the logits of the
// unmodified model run over the whole sequence with no cache on js, every decode step runs one plan, and
// the presents are written at the token's position (KvCacheWrite + KvCacheAttention for MHA; GQA's
// own write at seqlens_k). Nothing here is compared with an answer the in-place path computed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate, type FeedsType, type Placement, type ReturnType } from '../../runtime/node.ts';
import { inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { testRng } from '../helpers/random.ts';
import { kilnFullLogits, maxRelDiff } from '../helpers/gpt-reference.ts';
import { tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

const STEPS = 10;

for (const attention of ['mha', 'gqa'] as const) {
  const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64, attention };
  const rng = testRng(import.meta.url, `weights-${attention}`);
  const model = encodeOnnxModel(tinyGpt(config, rng));
  const prompt = Array.from({ length: 5 }, () => rng.int(config.vocab));

  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    test(`${attention} on ${provider}: each in-place decode step gives the full recompute's logits, in one plan`, async () => {
      const s = await InferenceSession.create(model, { executionProviders: [provider] });
      // The oracle: the plain TypeScript path over the whole sequence (its fused ops agree with onnxruntime: test/ops)
      const reference = await InferenceSession.create(model, { executionProviders: ['js'] });
      try {
        const decoder = await inPlaceSession(s, findKvPairs(s.inputNames, s.outputNames));
        assert.ok(decoder, `the ${attention} decoder is rewritten`);
        const logits: Float32Array[] = [];
        const placements: Placement[] = [];
        const run = decoder.run.bind(decoder);
        decoder.run = async (feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> => {
          const out = await run(feeds, fetches);
          const l = await out.logits!.getData() as Float32Array;
          logits.push(l.slice(l.length - config.vocab));
          placements.push(decoder.lastPlacement!);
          return out;
        };
        const result = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
        assert.equal(result.cache, 'inplace');
        assert.equal(logits.length, STEPS - 1, 'every step after the prefill ran the in-place graph');
        for (let step = 1; step < STEPS; step++) {
          const want = await kilnFullLogits(reference, config, result.sequence.slice(0, prompt.length + step));
          const d = maxRelDiff(logits[step - 1]!, want);
          assert.ok(d < 1e-4, `decode step ${step}: logits differ from the full recompute by ${d} (seed ${rng.seed})`);
        }
        assert.ok(placements.every((p) => p === placements[0]), 'every decode step ran the same prepared plan');
        const ops = placements[0]!.steps.map((st) => st.opType);
        if (attention === 'mha') {
          assert.equal(ops.filter((o) => o === 'KvCacheWrite').length, 2 * config.layers, 'each present is written in place');
          assert.equal(ops.filter((o) => o === 'KvCacheAttention').length, config.layers, 'each layer attends over the written part');
          assert.ok(!ops.includes('MultiHeadAttention'), `no MultiHeadAttention is left: ${ops.join(' ')}`);
        } else {
          assert.equal(ops.filter((o) => o === 'GroupQueryAttention').length, config.layers);
        }
        if (provider === 'webgpu') assert.ok(placements[0]!.steps.filter((st) => /KvCache|GroupQuery/.test(st.opType)).every((st) => st.device === 'gpu'), 'the cache ops run on the GPU');
      } finally {
        await s.release();
        await reference.release();
      }
    });
  }
}
