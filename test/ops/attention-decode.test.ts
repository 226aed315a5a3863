// A decode loop step equals recomputing the whole sequence: GroupQueryAttention run on a prompt of
// 300 tokens, its present fed back as past for token 301, gives the last row and the present that
// one 301-token prompt gives; on the CPU fast path and on WebGPU (the split-KV decode kernel). On
// wasm with the past carried between runs, the presents are written over the past (below).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError } from '../../runtime/node.ts';
import { carriedBy, deriverOf } from '../../runtime/api/derived-sessions.ts';
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

// GroupQueryAttention's presents written over a carried past (wasm, gqa-inplace): a shared buffer of
// M rows (total_sequence_length = M, as generate()'s in-place graph sets it), the past carried
// between runs by derive(). Each run adds S rows at P = seqlens_k + 1 - S; its output and presents
// equal the js kernel fed the previous present every step (out of place). With
// do_rotary (the new keys rotated where they land) and S = 1 and 3. A second node reading past_key
// makes that pair keep its own bytes and the copy (the path every pair took before), past_value
// still in place.
const M = 24, ROT = 8;

function carriedGqaModel(S: number, otherReader: boolean): Uint8Array {
  const half = ROT / 2;
  const angle = (p: number, i: number): number => p / 10000 ** (i / half);
  const table = (f: (x: number) => number): Tensor<'float32'> => new Tensor('float32', Float32Array.from({ length: M * half }, (_, j) => f(angle(Math.floor(j / half), j % half))), [M, half]);
  const outs = ['out', 'present_k', 'present_v', ...(otherReader ? ['pk_sum'] : [])];
  return encodeOnnxModel({
    nodes: [
      {
        opType: 'GroupQueryAttention', domain: 'com.microsoft',
        inputs: ['q', 'k', 'v', 'pk', 'pv', 'seqlens', 'total', 'cos', 'sin'],
        outputs: ['out', 'present_k', 'present_v'],
        attrs: { num_heads: Nq, kv_num_heads: Nkv, do_rotary: 1 },
      },
      ...(otherReader ? [{ opType: 'ReduceSum', inputs: ['pk'], outputs: ['pk_sum'], attrs: { keepdims: 0 } }] : []),
    ],
    inputs: [
      { name: 'q', dtype: 'float32' as const, dims: [1, S, Nq * H] }, { name: 'k', dtype: 'float32' as const, dims: [1, S, Nkv * H] }, { name: 'v', dtype: 'float32' as const, dims: [1, S, Nkv * H] },
      { name: 'pk', dtype: 'float32' as const, dims: [1, Nkv, M, H] }, { name: 'pv', dtype: 'float32' as const, dims: [1, Nkv, M, H] }, { name: 'seqlens', dtype: 'int32' as const, dims: [1] },
    ],
    outputs: outs.map((name) => ({ name, dtype: 'float32' as const })),
    initializers: { total: new Tensor('int32', Int32Array.from([M]), []), cos: table(Math.cos), sin: table(Math.sin) },
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

for (const [S, otherReader] of [[1, false], [3, false], [1, true]] as const) {
  test(`GroupQueryAttention, wasm, past carried (S = ${S}${otherReader ? ', past_key read by another node' : ''}): presents written over the past give the js kernel's outputs and presents`, async () => {
    const rng = testRng(import.meta.url, `gqa carried ${S} ${otherReader}`);
    const model = carriedGqaModel(S, otherReader);
    const wasm = await InferenceSession.create(model, { executionProviders: ['wasm'] });
    const js = await InferenceSession.create(model, { executionProviders: ['js'] });
    try {
      const carried = [{ input: 'pk', output: 'present_k' }, { input: 'pv', output: 'present_v' }];
      const decoder = (await deriverOf(wasm)!('gqa-carried', (g) => g, { carried }))!;
      assert.deepEqual(carriedBy(decoder), carried);
      const draw = (n: number, dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from({ length: n }, () => rng.range(-1, 1)), dims);
      const zeros = (): Tensor<'float32'> => new Tensor('float32', new Float32Array(Nkv * M * H), [1, Nkv, M, H]);
      const seqlens = (P: number): Tensor<'int32'> => new Tensor('int32', Int32Array.from([P + S - 1]), [1]);
      const fetches = ['out', 'present_k', 'present_v', ...(otherReader ? ['pk_sum'] : [])]; // one plan: fetches are part of it
      let past = { pk: zeros(), pv: zeros() };
      const tol = { rtol: 1e-4, atol: 1e-5 };
      const steps = Math.floor(M / S);
      for (let i = 0; i < steps; i++) {
        const P = i * S;
        const feeds = { q: draw(S * Nq * H, [1, S, Nq * H]), k: draw(S * Nkv * H, [1, S, Nkv * H]), v: draw(S * Nkv * H, [1, S, Nkv * H]), seqlens: seqlens(P) };
        const want = await js.run({ ...feeds, ...past });
        const got = await decoder.run(i === 0 ? { ...feeds, ...past } : feeds, fetches);
        assert.equal(compareTensors(got.out!, want.out!, tol), undefined, `step ${i} (P = ${P}): out`);
        if (otherReader) assert.equal(compareTensors(got.pk_sum!, want.pk_sum!, tol), undefined, `step ${i}: the other reader saw the past before this step's rows`);
        assert.equal(compareTensors(got.present_k!, want.present_k!, tol), undefined, `step ${i}: present_k`);
        assert.equal(compareTensors(got.present_v!, want.present_v!, tol), undefined, `step ${i}: present_v`);
        past = { pk: want.present_k as Tensor<'float32'>, pv: want.present_v as Tensor<'float32'> };
        const p = decoder.lastPlacement!;
        assert.deepEqual(p.carriedShared, otherReader ? ['pv'] : ['pk', 'pv'], 'pairs written in place');
        assert.equal(p.carriedCopyBytes, i === 0 || !otherReader ? 0 : Nkv * M * H * 4, `step ${i}: bytes copied from present to past inside memory`);
        assert.equal(p.cpu, 1 + (otherReader ? 1 : 0), 'GroupQueryAttention (and the ReduceSum) ran');
        assert.ok(p.steps.every((x) => x.implementation === 'wasm'), 'every step in wasm');
      }
      // A run that fails midway (seqlens_k past the buffer) leaves the carried past half written: the next run must feed it.
      const one = { q: draw(S * Nq * H, [1, S, Nq * H]), k: draw(S * Nkv * H, [1, S, Nkv * H]), v: draw(S * Nkv * H, [1, S, Nkv * H]) };
      await assert.rejects(decoder.run({ ...one, seqlens: seqlens(M) }, fetches), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
      await assert.rejects(decoder.run({ ...one, seqlens: seqlens(0) }, fetches), (e: unknown) => e instanceof KilnError && e.code === 'INPUT_MISMATCH');
      const again = await decoder.run({ ...one, seqlens: seqlens(0), pk: zeros(), pv: zeros() }, fetches);
      assert.equal(compareTensors(again.out!, (await js.run({ ...one, seqlens: seqlens(0), pk: zeros(), pv: zeros() })).out!, tol), undefined, 'fed again after the failure');
    } finally {
      await wasm.release();
      await js.release();
    }
  });
}
