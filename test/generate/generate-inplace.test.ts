// generate()'s KV cache written in place (issue 13, item 3): on a session of this thread whose
// presents are Concat(past, new), decoding runs a rewritten copy of the model (KvCacheWrite at the
// token's position into a cache at its full length, the present fed back as the next past). Probes:
// the logits of every step equal onnxruntime-web's full recompute; the tokens equal the window
// path's (greedy and seeded sampling); one decode plan; no GPU allocation per token after warm-up;
// abort; and models the rewrite does not recognize keep the window path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, generate, type FeedsType, type GenerateSession, type Placement, type ReturnType, type SessionOptions } from '../../runtime/node.ts';
import { inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { testRng } from '../helpers/random.ts';
import { maxRelDiff, ortFullLogits } from '../helpers/gpt-reference.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

ort.env.wasm.numThreads = 1;

const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64 };
const rng = testRng(import.meta.url, 'weights');
const graph = tinyGpt(config, rng);
const model = encodeOnnxModel(graph);
const prompt = Array.from({ length: 5 }, () => rng.int(config.vocab));
const presentsOnGpu: SessionOptions['preferredOutputLocation'] = Object.fromEntries(Array.from({ length: config.layers }, (_, l) => (['key', 'value'] as const).map((kv) => [kvName('present', undefined, l, kv), 'gpu-buffer' as const])).flat());

/** The same session seen only through run(): generate() cannot rewrite it, so it keeps its window. */
const windowed = (s: InferenceSession): GenerateSession => ({ inputMetadata: s.inputMetadata, outputNames: s.outputNames, gpuDevice: s.gpuDevice, run: (feeds, fetches) => s.run(feeds, fetches) });

interface Recorded {
  /** last-position logits of each run, prefill first */
  readonly logits: Float32Array[];
  readonly fed: FeedsType[];
  /** where layer 0's past key was when it was fed (generate() disposes it after the step); 'kept' where the wasm decoder carried it */
  readonly pastLocations: string[];
  /** session.gpuAllocations.buffers after each run */
  readonly allocations: number[];
  /** the decode session's placement after each of its runs: the same object while the same plan runs */
  readonly placements: Placement[];
}

/** Records what generate() runs on the session (the prefill) and on its rewritten decode session. */
async function recordInPlace(s: InferenceSession): Promise<Recorded> {
  const decoder = await inPlaceSession(s, findKvPairs(s.inputNames, s.outputNames));
  assert.ok(decoder, 'the tiny GPT is rewritten');
  const rec: Recorded = { logits: [], fed: [], pastLocations: [], allocations: [], placements: [] };
  for (const target of [s, decoder]) {
    const run = target.run.bind(target);
    target.run = async (feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType> => {
      rec.fed.push({ ...feeds });
      rec.pastLocations.push(feeds[kvName('past', undefined, 0, 'key')]?.location ?? 'kept');
      const out = await run(feeds, fetches);
      const l = out.logits!.data as Float32Array;
      rec.logits.push(l.slice(l.length - config.vocab));
      rec.allocations.push(s.gpuAllocations?.buffers ?? 0);
      if (target === decoder) rec.placements.push(decoder.lastPlacement!);
      return out;
    };
  }
  return rec;
}

for (const [provider, options] of [['wasm', {}], ['js', {}], ['webgpu', { preferredOutputLocation: presentsOnGpu }]] as const) {
  test(`${provider}: the in-place cache gives onnxruntime-web's full-sequence logits at every step, in one decode plan`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider], ...options });
    const theirs = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    try {
      const rec = await recordInPlace(s);
      const steps = 14;
      const result = await generate(s, { inputIds: prompt, maxNewTokens: steps });
      assert.equal(result.cache, 'inplace');
      assert.equal(rec.logits.length, steps);
      for (let step = 0; step < steps; step++) {
        const want = await ortFullLogits(theirs, config, result.sequence.slice(0, prompt.length + step));
        const d = maxRelDiff(rec.logits[step]!, want);
        assert.ok(d < 1e-4, `step ${step}: logits differ by ${d} (seed ${rng.seed})`);
      }
      // Decode steps: the offset is the token's position, the mask spans the full cache, and one plan serves them all.
      const slots = prompt.length + steps - 1;
      rec.fed.slice(1).forEach((feeds, i) => {
        assert.deepEqual(Array.from(feeds.kiln_kv_offset!.data as Float32Array), [prompt.length + i]);
        assert.deepEqual(feeds.attention_mask!.dims, [1, slots]);
        // wasm keeps the cache in its memory: fed at the first decode step only
        if (provider !== 'wasm' || i === 0) assert.equal(feeds[kvName('past', undefined, 0, 'key')]!.dims[2], slots);
        else assert.equal(feeds[kvName('past', undefined, 0, 'key')], undefined, `decode step ${i + 1} feeds no past on wasm`);
      });
      assert.equal(rec.placements.length, steps - 1);
      assert.ok(rec.placements.every((p) => p === rec.placements[0]), 'every decode step ran the same prepared plan');
      const writes = rec.placements[0]!.steps.filter((st) => st.opType === 'KvCacheWrite');
      assert.equal(writes.length, 2 * config.layers, 'each present is written in place');
      assert.ok(!rec.placements[0]!.steps.some((st) => st.opType === 'Concat' && /present/.test(st.node)), 'no Concat makes a present');
      const attends = rec.placements[0]!.steps.filter((st) => st.opType === 'KvCacheAttention');
      assert.equal(attends.length, config.layers, 'each layer attends over the written part of its cache');
      assert.ok(!rec.placements[0]!.steps.some((st) => st.opType === 'Softmax'), 'no Softmax over the whole cache is left');
      if (provider === 'webgpu') assert.ok(attends.every((st) => st.device === 'gpu'));
      if (provider === 'wasm') assert.ok(attends.every((st) => st.implementation === 'wasm'));
      if (provider === 'webgpu') {
        assert.ok(writes.every((st) => st.device === 'gpu'));
        assert.deepEqual(rec.pastLocations.slice(1), rec.pastLocations.slice(1).map(() => 'gpu-buffer'), 'the cache stays on the GPU');
        // prefill, then the first two decode steps take the plan and the two pooled presents each cache alternates between; then nothing new
        const after = rec.allocations.slice(3);
        assert.ok(after.length >= 10);
        assert.deepEqual(after, after.map(() => rec.allocations[2]), `allocations per run: ${rec.allocations.join(', ')}`);
      }
      if (provider === 'wasm') assert.ok(writes.every((st) => st.implementation === 'wasm'), 'the wasm kernel runs the write');
      const viaWindow = await generate(windowed(s), { inputIds: prompt, maxNewTokens: steps });
      assert.equal(viaWindow.cache, 'window');
      assert.deepEqual(result.tokens, viaWindow.tokens, 'greedy: the tokens the window path picks');
    } finally {
      await s.release();
      await theirs.release();
    }
  });
}

test('seeded sampling: the in-place cache reproduces itself and picks what the window path picks, on wasm and WebGPU', async () => {
  for (const [provider, options] of [['wasm', {}], ['webgpu', { preferredOutputLocation: 'gpu-buffer' }]] as const) {
    const s = await InferenceSession.create(model, { executionProviders: [provider], ...options });
    try {
      const sampling = { inputIds: prompt, maxNewTokens: 12, temperature: 0.9, topK: 20, topP: 0.95, seed: 77 };
      const a = await generate(s, sampling);
      const b = await generate(s, sampling);
      const w = await generate(windowed(s), sampling);
      assert.equal(a.cache, 'inplace');
      assert.deepEqual(a.tokens, b.tokens, provider);
      assert.deepEqual(a.tokens, w.tokens, provider);
    } finally {
      await s.release();
    }
  }
});

test('webgpu: an abort mid-generation is ABORTED with the tokens so far, and the session decodes again after it', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: presentsOnGpu });
  try {
    const full = await generate(s, { inputIds: prompt, maxNewTokens: 8 });
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      generate(s, { inputIds: prompt, maxNewTokens: 8, signal: controller.signal, onToken: () => void (++seen === 4 && controller.abort()) }),
      (e: unknown) => e instanceof KilnError && e.code === 'ABORTED' && JSON.stringify(e.details?.tokens) === JSON.stringify(full.tokens.slice(0, 4)),
    );
    assert.deepEqual((await generate(s, { inputIds: prompt, maxNewTokens: 8 })).tokens, full.tokens);
  } finally {
    await s.release();
  }
});

test('wasm: a mask added as a bias (trainer-node GPT export form: scores + Where(mask, -1e9, 0)) is recognized and gives onnxruntime-web\'s logits', async () => {
  const added = encodeOnnxModel({
    ...graph,
    nodes: graph.nodes.flatMap((n) => (n.opType === 'Where' ? [
      { opType: 'Not', inputs: [n.inputs[0]!], outputs: [`${n.outputs[0]!}_hidden`] },
      { opType: 'Where', inputs: [`${n.outputs[0]!}_hidden`, 'masked', 'zero_bias'], outputs: [`${n.outputs[0]!}_bias`] },
      { opType: 'Add', inputs: [n.inputs[1]!, `${n.outputs[0]!}_bias`], outputs: n.outputs },
    ] : [n])),
    initializers: { ...(graph.initializers as Record<string, Tensor>), zero_bias: new Tensor('float32', [0], []) },
  });
  const s = await InferenceSession.create(added, { executionProviders: ['wasm'] });
  const theirs = await ort.InferenceSession.create(added, { executionProviders: ['wasm'] });
  try {
    const rec = await recordInPlace(s);
    const result = await generate(s, { inputIds: prompt, maxNewTokens: 8 });
    assert.equal(result.cache, 'inplace');
    assert.equal(rec.placements[0]!.steps.filter((st) => st.opType === 'KvCacheAttention').length, config.layers);
    for (let step = 0; step < 8; step++) {
      const d = maxRelDiff(rec.logits[step]!, await ortFullLogits(theirs, config, result.sequence.slice(0, prompt.length + step)));
      assert.ok(d < 1e-4, `step ${step}: logits differ by ${d}`);
    }
  } finally {
    await s.release();
    await theirs.release();
  }
});

test('wasm: the trained sonnet GPT (trainer-node export) decodes the tokens a full recompute picks', async () => {
  const s = await InferenceSession.create('demo/models/sonnets-gpt-int4.kiln', { executionProviders: ['wasm'] });
  try {
    const start = [5, 6, 7, 8, 9];
    const steps = 24;
    const r = await generate(s, { inputIds: start, maxNewTokens: steps });
    assert.equal(r.cache, 'inplace');
    const sequence = [...start];
    const i64 = (v: readonly number[]): Tensor => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
    for (let t = 0; t < steps; t++) {
      const feeds: Record<string, Tensor> = { input_ids: i64(sequence), attention_mask: i64(sequence.map(() => 1)), position_ids: i64(sequence.map((_, i) => i)) };
      for (const m of s.inputMetadata) if (m.name.startsWith('past_key_values')) feeds[m.name] = new Tensor('float32', new Float32Array(0), [1, m.shape[1] as number, 0, m.shape[3] as number]);
      const logits = (await s.run(feeds, ['logits'])).logits!;
      const vocab = logits.dims[2]!;
      const row = (logits.data as Float32Array).subarray((sequence.length - 1) * vocab);
      sequence.push(row.indexOf(Math.max(...row)));
    }
    assert.deepEqual(r.tokens, sequence.slice(start.length));
  } finally {
    await s.release();
  }
});

test('a model whose past is read elsewhere (here its length, by Shape) is not rewritten: generate() keeps the window, same tokens', async () => {
  const past = kvName('past', undefined, 0, 'key');
  const reads = encodeOnnxModel({
    ...graph,
    nodes: [...graph.nodes, { opType: 'Shape', inputs: [past], outputs: ['past_shape'] }],
    outputs: [...graph.outputs, { name: 'past_shape', dtype: 'int64' }],
  });
  const want = await (async () => {
    const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
    try {
      return (await generate(s, { inputIds: prompt, maxNewTokens: 6 })).tokens;
    } finally {
      await s.release();
    }
  })();
  const s = await InferenceSession.create(reads, { executionProviders: ['wasm'] });
  try {
    assert.equal(await inPlaceSession(s, findKvPairs(s.inputNames, s.outputNames)), undefined);
    const r = await generate(s, { inputIds: prompt, maxNewTokens: 6 });
    assert.equal(r.cache, 'window');
    assert.deepEqual(r.tokens, want);
  } finally {
    await s.release();
  }
});
