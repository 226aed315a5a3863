// generate()'s KV cache kept in the wasm module's memory (issue 13, item 3): the in-place decoder
// carries each cache between runs (derive's `carried`), so a decode step after the first feeds no
// past and fetches no present. Probes, for the plain-ONNX GPT and its MultiHeadAttention and
// GroupQueryAttention forms, at 1 and 2 threads: every decode step's logits equal the js full
// recompute (no cache at all: not the code under test); the tokens equal those of the path that
// feeds and fetches the cache every step (greedy and seeded) and the js backend's (greedy); after
// warm-up a step moves the same bytes between JS and wasm memory at every position (far less than
// one cache) and the memory does not grow; every cache is written in place (present and past share
// bytes: KvCacheWrite for the plain and MHA forms, GroupQueryAttention's own presents for GQA), so
// no step copies a cache inside memory either; abort, a failed run and two generations at once
// leave correct answers behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, generate, type FeedsType, type ReturnType } from '../../runtime/node.ts';
import { carriesCache, inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { testRng } from '../helpers/random.ts';
import { kilnFullLogits, maxRelDiff } from '../helpers/gpt-reference.ts';
import { tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const STEPS = 16;
const PROMPT = 5;

/** generate() with the cache fed and fetched every decode step (the path before carrying). */
async function fedEachStep<T>(f: () => Promise<T>): Promise<T> {
  const knob = devKnobs;
  knob.KILN_KV_FEED_EACH_STEP = true;
  try {
    return await f();
  } finally {
    delete knob.KILN_KV_FEED_EACH_STEP;
  }
}

interface DecodeRun {
  readonly logits: Float32Array;
  readonly pastFed: boolean;
  readonly fetches: readonly string[];
  readonly hostBytes: number;
  readonly carriedCopyBytes: number;
  readonly memoryBytes: number;
}

/** Wraps the carrying decoder's run() to record each decode step. */
async function recordDecoder(s: InferenceSession, vocab: number): Promise<{ runs: DecodeRun[]; decoder: InferenceSession }> {
  const pairs = findKvPairs(s.inputNames, s.outputNames);
  const decoder = await inPlaceSession(s, pairs);
  assert.ok(decoder && carriesCache(decoder, pairs), 'the wasm decoder carries its cache');
  const runs: DecodeRun[] = [];
  const run = decoder.run.bind(decoder);
  decoder.run = async (feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> => {
    const out = await run(feeds, fetches);
    const l = out.logits!.data as Float32Array;
    const p = decoder.lastPlacement!;
    runs.push({ logits: l.slice(l.length - vocab), pastFed: feeds[pairs[0]!.past] !== undefined, fetches: fetches ?? [], hostBytes: p.hostBytes!, carriedCopyBytes: p.carriedCopyBytes!, memoryBytes: p.memoryBytes! });
    return out;
  };
  return { runs, decoder };
}

for (const attention of ['ops', 'mha', 'gqa'] as const) {
  const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64, attention };
  const rng = testRng(import.meta.url, `weights-${attention}`);
  const model = encodeOnnxModel(tinyGpt(config, rng));
  const prompt = Array.from({ length: PROMPT }, () => rng.int(config.vocab));
  const kvHeads = attention === 'gqa' ? config.heads / 2 : config.heads;
  const cacheBytes = kvHeads * (PROMPT + STEPS - 1) * (config.embed / config.heads) * 4;

  for (const numThreads of [1, 2]) {
    test(`${attention}, wasm ${numThreads} thread(s): the carried cache gives the full recompute's logits, the fed path's tokens, and a flat per-step cost`, async () => {
      const s = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads }] });
      const reference = await InferenceSession.create(model, { executionProviders: ['js'] });
      try {
        const { runs, decoder } = await recordDecoder(s, config.vocab);
        const result = await generate(s, { inputIds: prompt, maxNewTokens: STEPS });
        assert.equal(result.cache, 'inplace');
        assert.equal(decoder.lastPlacement!.threads, numThreads);
        assert.equal(runs.length, STEPS - 1, 'every step after the prefill ran the decoder');
        for (let step = 1; step < STEPS; step++) {
          const d = maxRelDiff(runs[step - 1]!.logits, await kilnFullLogits(reference, config, result.sequence.slice(0, PROMPT + step)));
          assert.ok(d < 1e-4, `decode step ${step}: logits differ from the full recompute by ${d} (seed ${rng.seed})`);
        }
        assert.deepEqual(runs.map((r) => r.pastFed), runs.map((_, i) => i === 0), 'the cache is fed at the first decode step only');
        assert.ok(runs.every((r) => r.fetches.join() === 'logits'), 'no present is fetched');
        // After warm-up: the same bytes cross every step (ids, mask, offset, logits), less than one cache; memory stays put.
        const later = runs.slice(1);
        assert.ok(later.every((r) => r.hostBytes === later[0]!.hostBytes), `bytes copied per step: ${runs.map((r) => r.hostBytes).join(', ')}`);
        assert.ok(later[0]!.hostBytes < cacheBytes, `a step copies ${later[0]!.hostBytes} B, one cache is ${cacheBytes} B`);
        assert.ok(runs[0]!.hostBytes >= 2 * config.layers * cacheBytes, 'the first decode step takes the caches');
        assert.ok(later.every((r) => r.memoryBytes === runs[0]!.memoryBytes), `memory per step: ${runs.map((r) => r.memoryBytes).join(', ')}`);
        // In place: each present takes its past's bytes, so no step copies a cache inside memory either.
        const pasts = findKvPairs(s.inputNames, s.outputNames).map((p) => p.past);
        assert.deepEqual([...decoder.lastPlacement!.carriedShared!].sort(), [...pasts].sort(), 'every cache is written in place');
        assert.deepEqual(runs.map((r) => r.carriedCopyBytes), runs.map(() => 0), 'bytes copied from present to past inside memory per step');

        const fed = await fedEachStep(() => generate(s, { inputIds: prompt, maxNewTokens: STEPS }));
        assert.deepEqual(result.tokens, fed.tokens, 'greedy: the tokens of the path that feeds the cache every step');
        assert.deepEqual(result.tokens, (await generate(reference, { inputIds: prompt, maxNewTokens: STEPS })).tokens, 'greedy: the js backend\'s tokens');
        const sampling = { inputIds: prompt, maxNewTokens: 12, temperature: 0.9, topK: 20, topP: 0.95, seed: 77 };
        assert.deepEqual((await generate(s, sampling)).tokens, (await fedEachStep(() => generate(s, sampling))).tokens, 'seeded sampling: the same tokens');
      } finally {
        await s.release();
        await reference.release();
      }
    });
  }
}

const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64 };
const rng = testRng(import.meta.url, 'weights');
const model = encodeOnnxModel(tinyGpt(config, rng));
const prompt = Array.from({ length: PROMPT }, () => rng.int(config.vocab));

test('wasm: an abort mid-generation is ABORTED with the tokens so far, and the next generation gives the same tokens again', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const full = await generate(s, { inputIds: prompt, maxNewTokens: 10 });
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      generate(s, { inputIds: prompt, maxNewTokens: 10, signal: controller.signal, onToken: () => void (++seen === 4 && controller.abort()) }),
      (e: unknown) => e instanceof KilnError && e.code === 'ABORTED' && JSON.stringify(e.details?.tokens) === JSON.stringify(full.tokens.slice(0, 4)),
    );
    // another prompt after the abort: its cache replaces what the aborted one left
    const other = [...prompt].reverse();
    const want = await fedEachStep(() => generate(s, { inputIds: other, maxNewTokens: 10 }));
    assert.deepEqual((await generate(s, { inputIds: other, maxNewTokens: 10 })).tokens, want.tokens);
    assert.deepEqual((await generate(s, { inputIds: prompt, maxNewTokens: 10 })).tokens, full.tokens);
  } finally {
    await s.release();
  }
});

test('wasm: a carried input is left out only after a run that fed it and succeeded (INPUT_MISMATCH otherwise)', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const pairs = findKvPairs(s.inputNames, s.outputNames);
    const decoder = (await inPlaceSession(s, pairs))!;
    const slots = 8;
    const i64 = (v: readonly number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
    const feeds = (offset: number): Record<string, Tensor<'int64'> | Tensor<'float32'>> => ({
      input_ids: i64([1]), attention_mask: i64(Array.from({ length: slots }, (_, i) => (i <= offset ? 1 : 0))), position_ids: i64([offset]), kiln_kv_offset: new Tensor('float32', [offset], [1]),
    });
    const isMismatch = (e: unknown): boolean => e instanceof KilnError && e.code === 'INPUT_MISMATCH';
    await assert.rejects(decoder.run(feeds(0), ['logits']), isMismatch, 'never fed');
    const pasts = Object.fromEntries(pairs.map((p) => [p.past, new Tensor('float32', new Float32Array(4 * slots * 8), [1, 4, slots, 8])]));
    await decoder.run({ ...feeds(0), ...pasts }, ['logits']);
    await decoder.run(feeds(1), ['logits']); // carried
    await assert.rejects(decoder.run(feeds(slots), ['logits']), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT', 'an offset past the cache');
    await assert.rejects(decoder.run(feeds(2), ['logits']), isMismatch, 'the failed run left the cache half written');
    await decoder.run({ ...feeds(2), ...pasts }, ['logits']);
    await decoder.run(feeds(3), ['logits']);
  } finally {
    await s.release();
  }
});

test('wasm: two generations at once on one session each give their own tokens', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const other = [...prompt].reverse();
    const alone = [(await generate(s, { inputIds: prompt, maxNewTokens: 12 })).tokens, (await generate(s, { inputIds: other, maxNewTokens: 12 })).tokens];
    const together = await Promise.all([generate(s, { inputIds: prompt, maxNewTokens: 12 }), generate(s, { inputIds: other, maxNewTokens: 12 })]);
    assert.deepEqual(together.map((r) => r.tokens), alone);
  } finally {
    await s.release();
  }
});
