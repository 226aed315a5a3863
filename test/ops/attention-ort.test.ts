// The fused attention ops against onnxruntime-web (wasm, one thread) on seeded random inputs: the
// reference, the js fast path and WebGPU must each give onnxruntime's answer for every output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { ExecutionProvider } from '../../runtime/api/inference-session.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;

export interface OrtInput {
  readonly dims: readonly number[];
  readonly dtype?: DataType;
  /** fixed values (masks, lengths); random floats in [-1, 1) otherwise */
  readonly values?: readonly number[];
  readonly omit?: boolean;
  /** an initializer rather than a feed */
  readonly constant?: boolean;
}

export interface OrtCase {
  readonly name: string;
  readonly op: string;
  readonly domain?: string;
  readonly opset?: number;
  readonly attrs: Readonly<Record<string, WriterAttribute>>;
  readonly inputs: readonly OrtInput[];
  readonly outputs: number;
  readonly gpu?: boolean;
  /** the wasm backend must run the node in its wasm kernel (not the js fallback) */
  readonly wasmKernel?: boolean;
}

function tensorOf(spec: OrtInput, rng: { range(lo: number, hi: number): number }): AnyTensor {
  const n = spec.dims.reduce((a, b) => a * b, 1);
  const dtype = spec.dtype ?? 'float32';
  const vals = spec.values ?? Array.from({ length: n }, () => rng.range(-1, 1));
  if (dtype === 'int32') return new Tensor('int32', Int32Array.from(vals), spec.dims);
  if (dtype === 'int64') return new Tensor('int64', BigInt64Array.from(vals.map((v) => BigInt(v))), spec.dims);
  if (dtype === 'bool') return new Tensor('bool', Uint8Array.from(vals), spec.dims);
  return new Tensor('float32', Float32Array.from(vals), spec.dims);
}

export async function matchesOrt(c: OrtCase): Promise<void> {
  const rng = testRng(import.meta.url, c.name);
  const feeds: Record<string, AnyTensor> = {};
  const initializers: Record<string, AnyTensor> = {};
  const names = c.inputs.map((spec, i) => {
    if (spec.omit) return '';
    const t = tensorOf(spec, rng);
    if (spec.constant) initializers[`in${i}`] = t;
    else feeds[`in${i}`] = t;
    return `in${i}`;
  });
  const outs = Array.from({ length: c.outputs }, (_, i) => `out${i}`);
  const bytes = encodeOnnxModel({
    nodes: [{ opType: c.op, domain: c.domain ?? 'com.microsoft', inputs: names, outputs: outs, attrs: c.attrs }],
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: outs.map((name) => ({ name, dtype: 'float32' })),
    initializers,
    opsets: { '': c.opset ?? 17, ...(c.domain === '' ? {} : { 'com.microsoft': 1 }) },
  });
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims]);
  const want = await theirs.run(ortFeeds);
  await theirs.release();
  const providers: ExecutionProvider[] = [{ name: 'cpu', reference: true }, 'js', 'wasm', ...(c.gpu === false ? [] : ['webgpu' as const])];
  for (const provider of providers) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    const label = typeof provider === 'string' ? provider : 'reference';
    try {
      const got = await s.run(feeds);
      if (label === 'webgpu') assert.equal(s.lastPlacement?.cpu ?? 1, 0, `${c.name}: ${c.op} fell back to the CPU on webgpu`);
      if (label === 'wasm' && c.wasmKernel) assert.equal(s.lastPlacement?.steps[0]?.implementation, 'wasm', `${c.name}: ${c.op} did not run its wasm kernel`);
      for (const name of outs) {
        const w = want[name]!;
        const problem = compareTensors(got[name]!, new Tensor('float32', w.data as Float32Array, w.dims), { rtol: 2e-4, atol: 2e-5 });
        if (problem && process.env.ATT_DEBUG) console.log(name, Array.from(got[name]!.data as Float32Array).map((x) => x.toFixed(3)).join(' '), '\n', Array.from(w.data as Float32Array).map((x) => x.toFixed(3)).join(' '));
        assert.equal(problem, undefined, `${c.name} ${name} on ${label} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
}

const B = 2, S = 5, N = 2, H = 4, D = N * H, P = 3, T = P + S;
const i32 = (values: number[]): OrtInput => ({ dims: [values.length], dtype: 'int32', values });

test('MultiHeadAttention: separate Q/K/V with bias, 2-D key padding mask, attention_bias, past and present', async () => {
  await matchesOrt({
    name: 'mha past',
    op: 'MultiHeadAttention',
    attrs: { num_heads: N },
    inputs: [
      { dims: [B, S, D] }, { dims: [B, S, D] }, { dims: [B, S, D] }, { dims: [3 * D] },
      { dims: [B, T], dtype: 'int32', values: [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] },
      { dims: [1, N, S, T] }, { dims: [B, N, P, H] }, { dims: [B, N, P, H] },
    ],
    outputs: 3,
    wasmKernel: true,
  });
});

test('MultiHeadAttention: causal, 1-D key lengths, cross-attention lengths and a scale', async () => {
  await matchesOrt({
    name: 'mha causal',
    op: 'MultiHeadAttention',
    attrs: { num_heads: N, unidirectional: 1, scale: { float: 0.3 } },
    inputs: [{ dims: [B, S, D] }, { dims: [B, S, D] }, { dims: [B, S, D] }, { dims: [0], omit: true }, i32([4, 5])],
    outputs: 1,
    wasmKernel: true,
  });
  await matchesOrt({
    name: 'mha cross',
    op: 'MultiHeadAttention',
    attrs: { num_heads: N, mask_filter_value: { float: -1000 } },
    inputs: [{ dims: [B, S, D] }, { dims: [B, 7, D] }, { dims: [B, 7, 3 * N] }, { dims: [0], omit: true }, { dims: [B, S, 7], dtype: 'int32', values: Array.from({ length: B * S * 7 }, (_, i) => (i % 3 === 0 ? 0 : 1)) }],
    outputs: 1,
    wasmKernel: true,
  });
});

test('MultiHeadAttention on the wasm kernel: plain, causal, [B, N, L, H] key and value (packed QKV: onnxruntime CPU lacks it, attention.test.ts covers it)', async () => {
  await matchesOrt({ name: 'mha wasm plain', op: 'MultiHeadAttention', attrs: { num_heads: 3 }, inputs: [{ dims: [B, 7, 3 * 5] }, { dims: [B, 9, 3 * 5] }, { dims: [B, 9, 3 * 6] }], outputs: 1, wasmKernel: true });
  await matchesOrt({ name: 'mha wasm causal', op: 'MultiHeadAttention', attrs: { num_heads: N, unidirectional: 1 }, inputs: [{ dims: [B, 11, 2 * 12] }, { dims: [B, 11, 2 * 12] }, { dims: [B, 11, 2 * 12] }], outputs: 1, wasmKernel: true });
  await matchesOrt({ name: 'mha wasm bnsh', op: 'MultiHeadAttention', attrs: { num_heads: N, scale: { float: 0.3 } }, inputs: [{ dims: [B, S, D] }, { dims: [B, N, 6, H] }, { dims: [B, N, 6, H] }], outputs: 1, wasmKernel: true });
});

test('Attention (com.microsoft) on the wasm kernel: constant weights and bias, and causal', async () => {
  await matchesOrt({ name: 'attention wasm', op: 'Attention', attrs: { num_heads: N }, inputs: [{ dims: [B, S, 12] }, { dims: [12, 3 * D], constant: true }, { dims: [3 * D], constant: true }], outputs: 1, wasmKernel: true });
  await matchesOrt({ name: 'attention wasm causal', op: 'Attention', attrs: { num_heads: N, unidirectional: 1 }, inputs: [{ dims: [B, 9, 10] }, { dims: [10, 3 * D], constant: true }, { dims: [3 * D], constant: true }], outputs: 1, wasmKernel: true });
});

test('MultiHeadAttention: key and value already in [B, N, L, H] (cross-attention cache)', async () => {
  await matchesOrt({
    name: 'mha bnsh',
    op: 'MultiHeadAttention',
    attrs: { num_heads: N },
    inputs: [{ dims: [B, S, D] }, { dims: [B, N, 6, H] }, { dims: [B, N, 6, H] }],
    outputs: 1,
  });
});

test('Attention: weights, bias, every CPU mask_index format, past/present, unidirectional', async () => {
  const Din = 6;
  const base = (name: string, attrs: Record<string, WriterAttribute>, mask: OrtInput | undefined, past: boolean): OrtCase => ({
    name,
    op: 'Attention',
    attrs: { num_heads: N, ...attrs },
    inputs: [
      { dims: [B, S, Din] }, { dims: [Din, 3 * D], constant: true }, { dims: [3 * D], constant: true },
      mask ?? { dims: [0], omit: true },
      ...(past ? [{ dims: [2, B, N, P, H] }] : []),
    ],
    outputs: past ? 2 : 1,
    wasmKernel: true,
  });
  await matchesOrt(base('attention plain', {}, undefined, false));
  await matchesOrt(base('attention 1-D end', {}, i32([3, 5]), false));
  await matchesOrt(base('attention 1-D end start', {}, i32([4, 5, 1, 2]), false));
  await matchesOrt(base('attention 2-D', {}, { dims: [B, S], dtype: 'int32', values: [1, 1, 0, 1, 1, 1, 1, 1, 1, 0] }, false));
  await matchesOrt(base('attention 3-D', {}, { dims: [B, S, S], dtype: 'int32', values: Array.from({ length: B * S * S }, (_, i) => (i % 4 === 1 ? 0 : 1)) }, false));
  await matchesOrt(base('attention past unidirectional', { unidirectional: 1 }, undefined, true));
  await matchesOrt(base('attention past 2-D mask', {}, { dims: [B, T], dtype: 'int32', values: Array.from({ length: B * T }, (_, i) => (i % 5 === 2 ? 0 : 1)) }, true));
  await matchesOrt({
    name: 'attention qkv_hidden_sizes',
    op: 'Attention',
    attrs: { num_heads: N, qkv_hidden_sizes: [D, D, 2 * D], scale: { float: 0.5 } },
    inputs: [{ dims: [B, S, Din] }, { dims: [Din, 4 * D], constant: true }, { dims: [4 * D], constant: true }],
    outputs: 1,
    wasmKernel: true,
  });
});

test('GroupQueryAttention: kv heads < q heads, first prompt and a decode step with a past', async () => {
  const Nq = 4, Nkv = 2, H = 8; // onnxruntime's GQA wants head sizes in multiples of 8
  const gqa = (name: string, s: number, past: number, total: number, attrs: Record<string, WriterAttribute>, B = 2, seqlens?: number[], extra: OrtInput[] = [], hd = H): OrtCase => ({
    name,
    op: 'GroupQueryAttention',
    attrs: { num_heads: Nq, kv_num_heads: Nkv, ...attrs },
    inputs: [
      { dims: [B, s, Nq * hd] }, { dims: [B, s, Nkv * hd] }, { dims: [B, s, Nkv * hd] },
      { dims: [B, Nkv, past, hd] }, { dims: [B, Nkv, past, hd] },
      i32(seqlens ?? Array.from({ length: B }, () => total - 1)),
      { dims: [], dtype: 'int32', values: [total], constant: true },
      ...extra,
    ],
    outputs: 3,
    wasmKernel: true,
  });
  await matchesOrt(gqa('gqa prompt', S, 0, S, {}));
  await matchesOrt(gqa('gqa decode', 1, 6, 7, {}));
  // onnxruntime: batch 1 when S > 1 with a past
  await matchesOrt(gqa('gqa chunk', 3, 6, 9, {}, 1));
  await matchesOrt(gqa('gqa chunk softcap', 3, 6, 9, { softcap: { float: 2 } }, 1));
  // the wasm kernel's gather: a past length per batch from seqlens_k, rotary inside (cos/sin caches
  // [max_position, 8]: a constant, as exports carry them; onnxruntime's rotary wants head size 16)
  await matchesOrt(gqa('gqa decode, per-batch lengths', 1, 8, 9, {}, 2, [8, 4]));
  const half = 8;
  const cache = (f: (x: number) => number): OrtInput => ({ dims: [16, half], constant: true, values: Array.from({ length: 16 * half }, (_, i) => f(Math.floor(i / half) * 10000 ** (-(i % half) / half))) });
  const rot = [cache(Math.cos), cache(Math.sin)];
  await matchesOrt(gqa('gqa rotary prompt', S, 0, S, { do_rotary: 1 }, 2, undefined, rot, 2 * half));
  await matchesOrt(gqa('gqa rotary decode, per-batch lengths', 1, 8, 9, { do_rotary: 1 }, 2, [8, 5], rot, 2 * half));
  await matchesOrt(gqa('gqa rotary interleaved chunk', 3, 6, 9, { do_rotary: 1, rotary_interleaved: 1 }, 1, undefined, rot, 2 * half));
});
