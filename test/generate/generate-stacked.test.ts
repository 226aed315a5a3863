// generate() on decoders built on com.microsoft Attention, whose cache is ONE stacked tensor per layer:
// past_N [2, batch, heads, past, head size] -> present_N (onnxruntime's GPT-2 exports). The tiny GPT
// of test/helpers/tiny-gpt.ts in its 'stacked' form (mask_index = attention_mask, unidirectional=1).
// Probes: on js, wasm (1 and 2 threads) and WebGPU, every in-place decode step's logits equal Kiln's
// js full recompute (no cache at all) and onnxruntime-web's own decode loop (wasm EP, its presents fed
// back), and the greedy tokens equal onnxruntime-web's greedy decode; one plan for every step, the
// Attention node gone (KvCacheWrite + KvCacheAttention over the stacked cache); on wasm the cache is
// carried (fed at the first decode step only, no present fetched). The window path (a session seen
// only through run()) and the growing path (a model without attention_mask / position_ids) give the
// same tokens; an abort leaves the session decoding correctly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, generate, type FeedsType, type GenerateSession, type Placement, type ReturnType } from '../../runtime/node.ts';
import { carriesCache, inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { argmax } from '../../runtime/generate/sampling.ts';
import { testRng } from '../helpers/random.ts';
import { kilnFullLogits, maxRelDiff } from '../helpers/gpt-reference.ts';
import { emptyPastDims, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const STEPS = 10;
const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64, attention: 'stacked' };
const rng = testRng(import.meta.url, 'weights');
const model = encodeOnnxModel(tinyGpt(config, rng));
const prompt = Array.from({ length: 5 }, () => rng.int(config.vocab));

const lastRow = (data: Float32Array): Float32Array => data.slice(data.length - config.vocab);
/** The same session seen only through run(): generate() cannot rewrite it, so it keeps its window. */
const windowed = (s: InferenceSession): GenerateSession => ({ inputMetadata: s.inputMetadata, outputNames: s.outputNames, gpuDevice: s.gpuDevice, run: (feeds, fetches) => s.run(feeds, fetches) });

/** onnxruntime-web's greedy decode (its presents fed back as pasts): the new tokens and each decode step's logits. */
async function ortGreedy(steps: number): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const theirs = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], logSeverityLevel: 3 });
  try {
    const i64 = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
    let pasts: Record<string, ort.Tensor> = Object.fromEntries(emptyPastDims(config).map(({ name, dims }) => [name, new ort.Tensor('float32', new Float32Array(0), dims)]));
    const sequence = [...prompt];
    const tokens: number[] = [];
    const logits: Float32Array[] = [];
    for (let step = 0; step < steps; step++) {
      const start = step === 0 ? 0 : sequence.length - 1;
      const ids = sequence.slice(start);
      const out = await theirs.run({ input_ids: i64(ids), attention_mask: i64(Array(sequence.length).fill(1)), position_ids: i64(ids.map((_, i) => start + i)), ...pasts });
      const row = lastRow(out.logits!.data as Float32Array);
      if (step > 0) logits.push(row);
      pasts = Object.fromEntries(Array.from({ length: config.layers }, (_, l) => [`past_${l}`, out[`present_${l}`]!]));
      const token = argmax(row);
      sequence.push(token);
      tokens.push(token);
    }
    return { tokens, logits };
  } finally {
    await theirs.release();
  }
}

let ortResult: Promise<{ tokens: number[]; logits: Float32Array[] }> | undefined;

const providers = [
  { name: 'js', ep: 'js' },
  { name: 'wasm 1 thread', ep: { name: 'wasm', numThreads: 1 } },
  { name: 'wasm 2 threads', ep: { name: 'wasm', numThreads: 2 } },
  { name: 'webgpu', ep: 'webgpu' },
] as const;

for (const provider of providers) {
  test(`${provider.name}: the stacked cache in place gives onnxruntime-web's greedy tokens and each step the full recompute's and ort's logits, in one plan`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider.ep] });
    const reference = await InferenceSession.create(model, { executionProviders: ['js'] });
    try {
      const pairs = findKvPairs(s.inputNames, s.outputNames);
      assert.deepEqual(pairs, Array.from({ length: config.layers }, (_, l) => ({ past: `past_${l}`, present: `present_${l}` })));
      const decoder = await inPlaceSession(s, pairs);
      assert.ok(decoder, 'the Attention decoder is rewritten');
      const carried = carriesCache(decoder, pairs);
      assert.equal(carried, provider.name.startsWith('wasm'), 'wasm carries the cache, the others feed it back');
      const logits: Float32Array[] = [];
      const placements: Placement[] = [];
      const pastFed: boolean[] = [];
      const fetched: string[] = [];
      const bytes: { host: number; memory: number }[] = [];
      const run = decoder.run.bind(decoder);
      decoder.run = async (feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> => {
        const out = await run(feeds, fetches);
        logits.push(lastRow(await out.logits!.getData() as Float32Array));
        placements.push(decoder.lastPlacement!);
        pastFed.push(feeds['past_0'] !== undefined);
        fetched.push((fetches ?? []).join());
        bytes.push({ host: decoder.lastPlacement!.hostBytes ?? -1, memory: decoder.lastPlacement!.memoryBytes ?? -1 });
        return out;
      };
      const result = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
      assert.equal(result.cache, 'inplace');
      assert.equal(logits.length, STEPS - 1, 'every step after the prefill ran the in-place graph');
      const theirs = await (ortResult ??= ortGreedy(STEPS));
      assert.deepEqual(result.tokens, theirs.tokens, `greedy tokens: onnxruntime-web's (seed ${rng.seed})`);
      for (let step = 1; step < STEPS; step++) {
        const full = await kilnFullLogits(reference, config, result.sequence.slice(0, prompt.length + step));
        const dFull = maxRelDiff(logits[step - 1]!, full);
        const dOrt = maxRelDiff(logits[step - 1]!, theirs.logits[step - 1]!);
        assert.ok(dFull < 1e-4, `decode step ${step}: logits differ from the full recompute by ${dFull} (seed ${rng.seed})`);
        assert.ok(dOrt < 1e-4, `decode step ${step}: logits differ from onnxruntime-web's decode by ${dOrt} (seed ${rng.seed})`);
      }
      assert.ok(placements.every((p) => p === placements[0]), 'every decode step ran the same prepared plan');
      const ops = placements[0]!.steps.map((st) => st.opType);
      assert.equal(ops.filter((o) => o === 'KvCacheWrite').length, config.layers, 'one write per stacked cache');
      assert.equal(ops.filter((o) => o === 'KvCacheAttention').length, config.layers);
      assert.ok(!ops.includes('Attention'), `no Attention is left: ${ops.join(' ')}`);
      if (carried) {
        assert.deepEqual(pastFed, pastFed.map((_, i) => i === 0), 'the cache is fed at the first decode step only');
        assert.ok(fetched.every((f) => f === 'logits'), `no present is fetched: ${fetched.join(' | ')}`);
        if (typeof provider.ep === 'object') assert.equal(decoder.lastPlacement!.threads, provider.ep.numThreads);
        // after the first decode step: the same few bytes cross each step (ids, mask, positions, offset, logits), far less than one cache; memory stays put
        const cacheBytes = 2 * config.heads * (prompt.length + STEPS - 1) * (config.embed / config.heads) * 4;
        const later = bytes.slice(1);
        assert.ok(later.every((b) => b.host === later[0]!.host && b.host >= 0 && b.host < cacheBytes / 4), `bytes between JS and wasm per step: ${bytes.map((b) => b.host).join(', ')} (one cache: ${cacheBytes})`);
        assert.ok(bytes[0]!.host >= config.layers * cacheBytes, 'the first decode step takes the prompt\'s caches');
        assert.ok(later.every((b) => b.memory === bytes[0]!.memory), `memory per step: ${bytes.map((b) => b.memory).join(', ')}`);
      }
      if (provider.name === 'webgpu') assert.ok(placements[0]!.steps.filter((st) => /KvCache/.test(st.opType)).every((st) => st.device === 'gpu'), 'the cache ops run on the GPU');
    } finally {
      await s.release();
      await reference.release();
    }
  });
}

for (const provider of ['js', 'wasm'] as const) {
  test(`${provider}: through run() only, the stacked cache in a window picks the in-place path's tokens (greedy and seeded)`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider] });
    try {
      const inPlace = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
      const viaWindow = await generate(windowed(s), { inputIds: prompt, maxNewTokens: STEPS });
      assert.equal(viaWindow.cache, 'window');
      assert.deepEqual(viaWindow.tokens, inPlace.tokens);
      const sampling = { inputIds: prompt, maxNewTokens: 8, temperature: 0.9, topK: 20, seed: 41 };
      assert.deepEqual((await generate(windowed(s), sampling)).tokens, (await generate(s, sampling)).tokens);
    } finally {
      await s.release();
    }
  });
}

for (const provider of ['wasm', 'webgpu'] as const) {
  test(`${provider}: an abort mid-generation is ABORTED with the tokens so far, and the session then decodes as before`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider] });
    try {
      const full = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
      const controller = new AbortController();
      let seen = 0;
      await assert.rejects(
        generate(s, { inputIds: prompt, maxNewTokens: STEPS, signal: controller.signal, onToken: () => void (++seen === 4 && controller.abort()) }),
        (e: unknown) => e instanceof KilnError && e.code === 'ABORTED' && JSON.stringify(e.details?.tokens) === JSON.stringify(full.tokens.slice(0, 4)),
      );
      const other = [...prompt].reverse();
      const want = await generate(windowed(s), { inputIds: other, maxNewTokens: STEPS });
      assert.deepEqual((await generate(s, { inputIds: other, maxNewTokens: STEPS })).tokens, want.tokens, 'another prompt after the abort');
      assert.deepEqual((await generate(s, { inputIds: prompt, maxNewTokens: STEPS })).tokens, full.tokens, 'the first prompt again');
    } finally {
      await s.release();
    }
  });
}

test('a stacked-cache decoder with input_ids and past_0 only feeds each present back (cache grow): the full recompute\'s greedy tokens', async () => {
  const E = 8, N = 2, V = 7;
  const r = testRng(import.meta.url, 'ids-only');
  const w = (dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => r.range(-1, 1)), dims);
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'Gather', inputs: ['wte', 'input_ids'], outputs: ['x'], attrs: { axis: 0 } },
      { opType: 'Attention', domain: 'com.microsoft', inputs: ['x', 'wqkv', 'bqkv', '', 'past_0'], outputs: ['ctx', 'present_0'], attrs: { num_heads: N, unidirectional: 1 } },
      { opType: 'MatMul', inputs: ['ctx', 'head'], outputs: ['logits'] },
    ],
    initializers: { wte: w([V, E]), wqkv: w([E, 3 * E]), bqkv: w([3 * E]), head: w([E, V]) },
    inputs: [{ name: 'input_ids', dtype: 'int64', dims: [1, 'sequence'] }, { name: 'past_0', dtype: 'float32', dims: [2, 1, N, 'past', E / N] }],
    outputs: [{ name: 'logits', dtype: 'float32', dims: [1, 'sequence', V] }, { name: 'present_0', dtype: 'float32', dims: [2, 1, N, 'total', E / N] }],
    opsets: { '': 17, 'com.microsoft': 1 },
  });
  for (const provider of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const result = await generate(s, { inputIds: [1, 2], maxNewTokens: 6 });
      assert.equal(result.cache, 'grow');
      const sequence = [1, 2];
      for (const token of result.tokens) {
        const out = await s.run({ input_ids: new Tensor('int64', BigInt64Array.from(sequence, (x) => BigInt(x)), [1, sequence.length]), past_0: new Tensor('float32', new Float32Array(0), [2, 1, N, 0, E / N]) }, ['logits']);
        const row = (out.logits!.data as Float32Array).slice((sequence.length - 1) * V);
        assert.equal(token, argmax(row), `${provider}, after ${sequence.join(' ')} (seed ${r.seed})`);
        sequence.push(token);
      }
    } finally {
      await s.release();
    }
  }
});
