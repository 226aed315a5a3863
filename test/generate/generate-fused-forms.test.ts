// generate()'s in-place KV cache for the fused attention forms beyond plain MHA / GQA (issue 13):
// MultiHeadAttention with its projection bias, packed QKV, packed KV, attention_bias (ALiBi-like,
// from position_ids and attention_mask), and GroupQueryAttention with attention_bias.
// Probe: on js, wasm and WebGPU, each in-place decode step's logits equal (1) onnxruntime-web's
// (wasm EP) own decode loop over the same model with its past state fed back, and (2) Kiln's js
// full recompute over the whole sequence with no cache. onnxruntime's CPU MultiHeadAttention refuses
// packed QKV / KV, so for those it runs the unpacked twin (the same weights in the same order: the
// packing only rearranges the projections at run time). Nothing is compared with an answer the
// in-place path computed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate, type FeedsType, type Placement, type ReturnType } from '../../runtime/node.ts';
import { inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { testRng } from '../helpers/random.ts';
import { kilnFullLogits, maxRelDiff } from '../helpers/gpt-reference.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const STEPS = 8;
const base = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64 } as const;

const forms: { name: string; config: TinyGptConfig; ortTwin?: TinyGptConfig }[] = [
  { name: 'MHA with bias', config: { ...base, attention: 'mha', mhaBias: true } },
  { name: 'MHA packed QKV with bias', config: { ...base, attention: 'mha', mhaBias: true, packed: 'qkv' }, ortTwin: { ...base, attention: 'mha', mhaBias: true } },
  { name: 'MHA packed KV', config: { ...base, attention: 'mha', packed: 'kv' }, ortTwin: { ...base, attention: 'mha' } },
  { name: 'MHA with attention_bias', config: { ...base, attention: 'mha', attentionBias: true } },
  { name: 'GQA with attention_bias', config: { ...base, attention: 'gqa', attentionBias: true } },
];

const lastRow = (data: Float32Array, vocab: number): Float32Array => data.slice(data.length - vocab);
const kvHeads = (c: TinyGptConfig): number => (c.attention === 'gqa' ? c.heads / 2 : c.heads);

/** onnxruntime-web's own decode loop (its presents fed back as pasts): the logits of each step after the prompt. */
async function ortDecode(theirs: ort.InferenceSession, c: TinyGptConfig, sequence: readonly number[], promptLength: number): Promise<Float32Array[]> {
  const tensor = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
  let pasts: Record<string, ort.Tensor> = {};
  for (let l = 0; l < c.layers; l++) for (const kv of ['key', 'value'] as const) pasts[kvName('past', undefined, l, kv)] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads(c), 0, c.embed / c.heads]);
  const steps: Float32Array[] = [];
  for (let end = promptLength; end <= sequence.length; end++) {
    const start = end === promptLength ? 0 : end - 1;
    const out = await theirs.run({ input_ids: tensor(sequence.slice(start, end)), attention_mask: tensor(Array(end).fill(1)), position_ids: tensor(Array.from({ length: end - start }, (_, i) => start + i)), ...pasts });
    if (end > promptLength) steps.push(lastRow(out.logits!.data as Float32Array, c.vocab));
    pasts = {};
    for (let l = 0; l < c.layers; l++) for (const kv of ['key', 'value'] as const) pasts[kvName('past', undefined, l, kv)] = out[kvName('present', undefined, l, kv)]!;
  }
  return steps;
}

for (const form of forms) {
  const rng = testRng(import.meta.url, `weights-${form.name}`);
  const model = encodeOnnxModel(tinyGpt(form.config, testRng(import.meta.url, `weights-${form.name}`)));
  const twin = form.ortTwin ? encodeOnnxModel(tinyGpt(form.ortTwin, testRng(import.meta.url, `weights-${form.name}`))) : model;
  const prompt = Array.from({ length: 5 }, () => rng.int(base.vocab));

  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    test(`${form.name} on ${provider}: each in-place decode step gives onnxruntime-web's decode logits and the full recompute's, in one plan`, async () => {
      const s = await InferenceSession.create(model, { executionProviders: [provider] });
      const reference = await InferenceSession.create(model, { executionProviders: ['js'] });
      const theirs = await ort.InferenceSession.create(twin, { executionProviders: ['wasm'] });
      try {
        const decoder = await inPlaceSession(s, findKvPairs(s.inputNames, s.outputNames));
        assert.ok(decoder, `the ${form.name} decoder is rewritten`);
        const logits: Float32Array[] = [];
        const placements: Placement[] = [];
        const run = decoder.run.bind(decoder);
        decoder.run = async (feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> => {
          const out = await run(feeds, fetches);
          logits.push(lastRow(await out.logits!.getData() as Float32Array, base.vocab));
          placements.push(decoder.lastPlacement!);
          return out;
        };
        const result = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
        assert.equal(result.cache, 'inplace');
        assert.equal(logits.length, STEPS - 1, 'every step after the prefill ran the in-place graph');
        const ortSteps = await ortDecode(theirs, form.config, result.sequence.slice(0, prompt.length + STEPS - 1), prompt.length);
        for (let step = 1; step < STEPS; step++) {
          const full = await kilnFullLogits(reference, form.config, result.sequence.slice(0, prompt.length + step));
          const dFull = maxRelDiff(logits[step - 1]!, full);
          const dOrt = maxRelDiff(logits[step - 1]!, ortSteps[step - 1]!);
          assert.ok(dFull < 1e-4, `decode step ${step}: logits differ from the full recompute by ${dFull} (seed ${rng.seed})`);
          assert.ok(dOrt < 1e-4, `decode step ${step}: logits differ from onnxruntime-web's decode by ${dOrt} (seed ${rng.seed})`);
        }
        assert.ok(placements.every((p) => p === placements[0]), 'every decode step ran the same prepared plan');
        const ops = placements[0]!.steps.map((st) => st.opType);
        assert.equal(ops.filter((o) => o === 'KvCacheWrite').length, form.config.attention === 'mha' ? 2 * base.layers : 0, 'MHA: each present written in place');
        assert.equal(ops.filter((o) => o === 'KvCacheAttention').length, form.config.attention === 'mha' ? base.layers : 0);
        assert.ok(!ops.includes('MultiHeadAttention'), `no MultiHeadAttention is left: ${ops.join(' ')}`);
        if (provider === 'webgpu') assert.ok(placements[0]!.steps.filter((st) => /KvCache|GroupQuery/.test(st.opType)).every((st) => st.device === 'gpu'), 'the cache ops run on the GPU');
      } finally {
        await s.release();
        await reference.release();
        await theirs.release();
      }
    });
  }
}
