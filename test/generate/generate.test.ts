// generate() on a GPT-2-like decoder with past state (issue 13, item 4): the cached decode loop
// gives the logits onnxruntime-web computes over the whole sequence at every step, on the CPU
// backends and on WebGPU with the cache resident; seeds reproduce; abort; no GPU allocation per token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor, generate, type FeedsType, type GenerateSession, type ReturnType, type SessionOptions } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { maxRelDiff, ortFullLogits } from '../helpers/gpt-reference.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

ort.env.wasm.numThreads = 1;

const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64 };
const rng = testRng(import.meta.url, 'weights');
const model = encodeOnnxModel(tinyGpt(config, rng));
const prompt = Array.from({ length: 5 }, () => rng.int(config.vocab));
const presentsOnGpu: SessionOptions['preferredOutputLocation'] = Object.fromEntries(Array.from({ length: config.layers }, (_, l) => (['key', 'value'] as const).map((kv) => [kvName('present', undefined, l, kv), 'gpu-buffer' as const])).flat());

/** A session that records what generate() fed and got: each run's last-position logits and feeds. */
function recording(s: InferenceSession): GenerateSession & { logits: Float32Array[]; fed: FeedsType[]; allocations: number[] } {
  const logits: Float32Array[] = [];
  const fed: FeedsType[] = [];
  const allocations: number[] = [];
  return {
    logits, fed, allocations,
    inputMetadata: s.inputMetadata,
    outputNames: s.outputNames,
    gpuDevice: s.gpuDevice,
    async run(feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> {
      fed.push({ ...feeds });
      const out = await s.run(feeds, fetches);
      const l = out.logits!.data as Float32Array;
      logits.push(l.slice(l.length - config.vocab));
      allocations.push(s.gpuAllocations?.buffers ?? 0);
      return out;
    },
  };
}

const greedyTokens = new Map<string, number[]>();

for (const [provider, options] of [['wasm', {}], ['js', {}], ['webgpu', { preferredOutputLocation: presentsOnGpu }]] as const) {
  test(`${provider}: the cached decode loop gives onnxruntime-web's full-sequence logits at every step`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider], ...options });
    const theirs = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    try {
      const rec = recording(s);
      const streamed: number[] = [];
      const result = await generate(rec, { inputIds: prompt, maxNewTokens: 12, onToken: (t, i) => void streamed.push(t, i) });
      assert.equal(result.cache, 'window');
      assert.equal(result.tokens.length, 12);
      assert.deepEqual(streamed, result.tokens.flatMap((t, i) => [t, i]), 'onToken sees each token, in order');
      assert.deepEqual(result.sequence, [...prompt, ...result.tokens]);
      assert.equal(rec.logits.length, 12);
      for (let step = 0; step < 12; step++) {
        const want = await ortFullLogits(theirs, config, result.sequence.slice(0, prompt.length + step));
        const d = maxRelDiff(rec.logits[step]!, want);
        assert.ok(d < 1e-4, `step ${step}: logits differ by ${d} (seed ${rng.seed})`);
      }
      if (provider === 'webgpu') {
        // Every decode step fed the resident cache: GPU buffers, never host data.
        for (const feeds of rec.fed.slice(1)) assert.equal(feeds[kvName('past', undefined, 0, 'key')]!.location, 'gpu-buffer');
        assert.ok(s.lastPlacement!.steps.every((st) => st.device === 'gpu'), 'the decode plan runs on the GPU');
      }
      greedyTokens.set(provider, result.tokens);
      if (greedyTokens.size === 3) {
        assert.deepEqual(greedyTokens.get('webgpu'), greedyTokens.get('wasm'), 'greedy: WebGPU picks the tokens the CPU picks');
        assert.deepEqual(greedyTokens.get('js'), greedyTokens.get('wasm'));
      }
    } finally {
      await s.release();
      await theirs.release();
    }
  });
}

test('webgpu: after the first decode step, decoding allocates no GPU buffer (counts, not times)', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: presentsOnGpu });
  try {
    const rec = recording(s);
    await generate(rec, { inputIds: prompt, maxNewTokens: 16 });
    // run 0: prefill (its plan); run 1: the decode plan and the pooled presents; then nothing new.
    const decode = rec.allocations.slice(2);
    assert.ok(decode.length >= 13);
    assert.deepEqual(decode, decode.map(() => rec.allocations[1]), `allocations per run: ${rec.allocations.join(', ')}`);
  } finally {
    await s.release();
  }
});

test('sampling is reproducible for a seed, on the CPU and on WebGPU', async () => {
  const cpu = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  const gpu = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  try {
    const sampling = { inputIds: prompt, maxNewTokens: 10, temperature: 0.8, topK: 20, topP: 0.95, seed: 1234 };
    const a = await generate(cpu, sampling);
    const b = await generate(cpu, sampling);
    assert.deepEqual(a.tokens, b.tokens);
    const c = await generate(gpu, sampling);
    const d = await generate(gpu, sampling);
    assert.deepEqual(c.tokens, d.tokens);
    assert.ok(a.tokens.every((t) => t >= 0 && t < config.vocab));
  } finally {
    await cpu.release();
    await gpu.release();
  }
});

test('eosTokenId stops generation; an AbortSignal stops it with a typed error', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const all = await generate(s, { inputIds: prompt, maxNewTokens: 6 });
    const stop = all.tokens[2]!;
    const firstAt = all.tokens.indexOf(stop);
    const stopped = await generate(s, { inputIds: prompt, maxNewTokens: 6, eosTokenId: [stop] });
    assert.equal(stopped.finishReason, 'eos');
    assert.deepEqual(stopped.tokens, all.tokens.slice(0, firstAt + 1));
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      generate(s, { inputIds: prompt, maxNewTokens: 20, signal: controller.signal, onToken: () => void (++seen === 3 && controller.abort()) }),
      (e: unknown) => e instanceof KilnError && e.code === 'ABORTED' && Array.isArray(e.details?.tokens) && (e.details.tokens as number[]).length === 3,
    );
    const already = AbortSignal.abort();
    await assert.rejects(generate(s, { inputIds: prompt, maxNewTokens: 2, signal: already }), (e: unknown) => e instanceof KilnError && e.code === 'ABORTED');
  } finally {
    await s.release();
  }
});

test('onnxruntime-genai naming, and a model without attention_mask/position_ids (its presents fed back as they grow)', async () => {
  const reference = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  const want = (await generate(reference, { inputIds: prompt, maxNewTokens: 8 })).tokens;
  await reference.release();
  // Same weights (same seed stream), other names / inputs: the same greedy tokens.
  for (const variant of [{ naming: 'genai-split' }, { inputs: 'ids-only' }] as const) {
    const bytes = encodeOnnxModel(tinyGpt({ ...config, ...variant }, testRng(import.meta.url, 'weights')));
    for (const [provider, options] of [['wasm', {}], ['webgpu', { preferredOutputLocation: 'gpu-buffer' }]] as const) {
      const s = await InferenceSession.create(bytes, { executionProviders: [provider], ...options });
      try {
        const r = await generate(s, { inputIds: prompt, maxNewTokens: 8 });
        assert.equal(r.cache, 'inputs' in variant ? 'grow' : 'inplace');
        assert.deepEqual(r.tokens, want, `${JSON.stringify(variant)} on ${provider}`);
      } finally {
        await s.release();
      }
    }
  }
});

test('generate: bad options and models it cannot drive are typed errors', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  const noLogits = await InferenceSession.create(encodeOnnxModel({
    nodes: [{ opType: 'Identity', inputs: ['input_ids'], outputs: ['y'] }],
    inputs: [{ name: 'input_ids', dtype: 'int64', dims: [1, 'n'] }],
    outputs: [{ name: 'y', dtype: 'int64' }],
  }), { executionProviders: ['wasm'] });
  try {
    const bad = async (options: Parameters<typeof generate>[1], message: RegExp, session: GenerateSession = s, code = 'INVALID_ARGUMENT'): Promise<void> => {
      await assert.rejects(generate(session, options), (e: unknown) => e instanceof KilnError && e.code === code && message.test(e.message));
    };
    await bad({ inputIds: [], maxNewTokens: 3 }, /inputIds/);
    await bad({ inputIds: [1.5], maxNewTokens: 3 }, /inputIds/);
    await bad({ inputIds: [1], maxNewTokens: 0 }, /maxNewTokens/);
    await bad({ inputIds: [1], maxNewTokens: 2, temperature: -1 }, /temperature/);
    await bad({ inputIds: [1], maxNewTokens: 2, topP: 0 }, /topP/);
    await bad({ inputIds: [1], maxNewTokens: 2, topK: 2.5 }, /topK/);
    await bad({ inputIds: [1], maxNewTokens: 2, seed: -1 }, /seed/);
    await bad({ inputIds: [1], maxNewTokens: 2 }, /no 'logits' output/, noLogits, 'INVALID_MODEL');
    // A token id past the vocabulary reaches the model's Gather, which names it.
    await assert.rejects(generate(s, { inputIds: [config.vocab + 5], maxNewTokens: 2 }), (e: unknown) => e instanceof KilnError);
    assert.ok(new Tensor('float32', [1], [1]).location === 'cpu');
  } finally {
    await s.release();
    await noLogits.release();
  }
});
