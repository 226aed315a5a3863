// Outputs that nobody fetches and no step reads are still written by their step (a multi-output
// op computes all of them). The wasm arena must give them bytes of their own for that step: before
// this fix their lifetime ended before it began (lastUse -1), so the arena planner placed them over
// live tensors and the write clobbered them. kv-browser's report: MultiHeadAttention /
// GroupQueryAttention with past, `run(feeds, ['logits'])` on wasm was off by about 4 while fetching
// everything matched js. Probe: fetching one output gives the same bits as fetching all, and both
// match the js backend (plain TypeScript, its own kernels: not the code under test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors, type Tolerance } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import type { Rng } from '../helpers/rng-core.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';
import { expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

/** test/ops/attention.test.ts's tolerance */
const ATTENTION_TOL: Tolerance = { rtol: 2e-4, atol: 2e-5 };

const floats = (rng: Rng, dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(dims.reduce((a, b) => a * b, 1), -1, 1)), dims);

/**
 * On wasm at 1 and 2 threads: `fetch` alone gives the bits of a run that fetches everything, and
 * matches js within `tol`. Returns the op types of the wasm plan that fetched `fetch` alone.
 */
async function fetchOneMatches(bytes: Uint8Array, feeds: Record<string, AnyTensor>, fetch: string, tol: Tolerance, seed: number): Promise<string[]> {
  const js = await InferenceSession.create(bytes, { executionProviders: ['js'] });
  const want = (await js.run(feeds, [fetch]))[fetch]!;
  await js.release();
  let ops: string[] = [];
  for (const numThreads of [1, 2]) {
    const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const only = (await s.run(feeds, [fetch]))[fetch]!;
      assert.equal(s.lastPlacement?.threads, numThreads);
      ops = s.lastPlacement!.steps.filter((st) => st.implementation === 'wasm').map((st) => st.opType);
      const all = (await s.run(feeds))[fetch]!;
      assert.equal(compareTensors(all, want, tol), undefined, `${numThreads} threads, every output fetched, vs js (seed ${seed})`);
      assert.equal(compareTensors(only, want, tol), undefined, `${numThreads} threads, '${fetch}' alone, vs js (seed ${seed})`);
      const a = all.data as Float32Array, o = only.data as Float32Array;
      const differ = o.findIndex((v, i) => !Object.is(v, a[i]));
      assert.equal(differ, -1, `${numThreads} threads: '${fetch}' alone differs from fetching all at element ${differ} (seed ${seed})`);
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
  return ops;
}

for (const attention of ['mha', 'gqa'] as const) {
  test(`tiny GPT with ${attention === 'mha' ? 'MultiHeadAttention' : 'GroupQueryAttention'} and past: logits alone are the logits of fetching every present, on 1 and 2 threads`, async () => {
    const rng = testRng(import.meta.url, `tiny-gpt-${attention}`);
    const config: TinyGptConfig = { vocab: 48, embed: 32, heads: 4, layers: 2, maxPositions: 64, attention };
    const bytes = encodeOnnxModel(tinyGpt(config, rng));
    const past = 3, n = 4;
    const i64 = (v: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
    const feeds: Record<string, AnyTensor> = {
      input_ids: i64(rng.ints(n, 0, config.vocab)),
      attention_mask: i64(Array<number>(past + n).fill(1)),
      position_ids: i64(Array.from({ length: n }, (_, i) => past + i)),
    };
    const kvHeads = attention === 'gqa' ? config.heads / 2 : config.heads;
    for (let l = 0; l < config.layers; l++) for (const kv of ['key', 'value'] as const) feeds[kvName('past', undefined, l, kv)] = floats(rng, [1, kvHeads, past, config.embed / config.heads]);
    const ops = await fetchOneMatches(bytes, feeds, 'logits', ATTENTION_TOL, rng.seed);
    const fused = attention === 'mha' ? 'MultiHeadAttention' : 'GroupQueryAttention';
    assert.equal(ops.filter((o) => o === fused).length, config.layers, `each layer's ${fused} ran in wasm: ${ops.join(' ')}`);
  });
}

test('MatMul/Softmax attention over Concat(past, new), fused by the wasm recognizer: the output alone is the output of fetching the presents', async () => {
  const rng = testRng(import.meta.url, 'matmul-attention');
  const N = 2, S = 3, P = 4, T = P + S, H = 8;
  const model: WriterModel = {
    nodes: [
      { opType: 'Concat', inputs: ['past_k', 'k'], outputs: ['present_k'], attrs: { axis: 2 } },
      { opType: 'Concat', inputs: ['past_v', 'v'], outputs: ['present_v'], attrs: { axis: 2 } },
      { opType: 'Transpose', inputs: ['present_k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
      { opType: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] },
      { opType: 'Mul', inputs: ['qk', 'scale'], outputs: ['scaled'] },
      { opType: 'Add', inputs: ['scaled', 'mask'], outputs: ['masked'] },
      { opType: 'Softmax', inputs: ['masked'], outputs: ['probs'], attrs: { axis: -1 } },
      { opType: 'MatMul', inputs: ['probs', 'present_v'], outputs: ['out'] },
    ],
    inputs: [
      { name: 'q', dtype: 'float32', dims: [1, N, S, H] }, { name: 'k', dtype: 'float32', dims: [1, N, S, H] }, { name: 'v', dtype: 'float32', dims: [1, N, S, H] },
      { name: 'past_k', dtype: 'float32', dims: [1, N, P, H] }, { name: 'past_v', dtype: 'float32', dims: [1, N, P, H] }, { name: 'mask', dtype: 'float32', dims: [1, 1, S, T] },
    ],
    outputs: [{ name: 'out', dtype: 'float32' }, { name: 'present_k', dtype: 'float32' }, { name: 'present_v', dtype: 'float32' }],
    initializers: { scale: new Tensor('float32', Float32Array.from([1 / Math.sqrt(H)]), []) },
    opsets: { '': 17 },
  };
  const feeds = {
    q: floats(rng, [1, N, S, H]), k: floats(rng, [1, N, S, H]), v: floats(rng, [1, N, S, H]),
    past_k: floats(rng, [1, N, P, H]), past_v: floats(rng, [1, N, P, H]),
    // causal over the past: query s sees keys t <= P + s
    mask: new Tensor('float32', Float32Array.from({ length: S * T }, (_, i) => (i % T <= P + Math.floor(i / T) ? 0 : -1e4)), [1, 1, S, T]),
  };
  const ops = await fetchOneMatches(encodeOnnxModel(model), feeds, 'out', ATTENTION_TOL, rng.seed);
  assert.ok(ops.includes('Attention'), `the recognizer fused the MatMul/Softmax attention: ${ops.join(' ')}`);
});

test('generic: a Split output nobody fetches or reads does not overwrite a tensor still live (it would share its bytes)', async () => {
  const rng = testRng(import.meta.url, 'split');
  const W = 64;
  // t = Softmax(x) lives across the Split and is read after it; `b` is written by the Split and read
  // by nothing: with no lifetime of its own it was placed over t (the largest block, at offset 0).
  const model: WriterModel = {
    nodes: [
      { opType: 'Softmax', inputs: ['x'], outputs: ['t'], attrs: { axis: -1 } },
      { opType: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: 0 } },
      { opType: 'Add', inputs: ['t', 'a'], outputs: ['out'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, W] }],
    outputs: [{ name: 'out', dtype: 'float32' }, { name: 'b', dtype: 'float32' }],
    opsets: { '': 17 },
  };
  const ops = await fetchOneMatches(encodeOnnxModel(model), { x: floats(rng, [2, W]) }, 'out', { rtol: 1e-6, atol: 1e-7 }, rng.seed);
  assert.deepEqual(ops, ['Softmax', 'Split', 'Add'], 'every step ran in wasm');
});
