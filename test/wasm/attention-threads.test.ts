// Attention on the wasm thread pool (kernels/attention/wasm-attend.ts attend -> parallelRows): the
// query rows split across threads give bit for bit the 1-thread output on 2 and 3 threads, for
// MultiHeadAttention with past, bias, a key padding mask and attention_bias, and for
// GroupQueryAttention with rotary and per-batch lengths; the 1-thread output matches the op's
// reference (so it is no oracle of itself). Sizes are above the pool's threshold (128^3 MACs).
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { testRng } from '../helpers/random.ts';
import { expectSameOnThreads } from '../helpers/same-on-threads.ts';

const rng = testRng(import.meta.url);
const f = (...dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(dims.reduce((a, b) => a * b, 1), -1, 1)), dims);
const i32 = (dims: number[], values: number[]): Tensor<'int32'> => new Tensor('int32', Int32Array.from(values), dims);

function oneNode(op: string, attrs: WriterModel['nodes'][number]['attrs'], feeds: Record<string, AnyTensor>, order: string[], outputs: number, consts: Record<string, AnyTensor> = {}): Uint8Array {
  const outs = Array.from({ length: outputs }, (_, i) => `o${i}`);
  return encodeOnnxModel({
    nodes: [{ opType: op, domain: 'com.microsoft', inputs: order, outputs: outs, attrs }],
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: outs.map((name) => ({ name, dtype: 'float32' })),
    initializers: consts,
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

const sameOnThreads = (bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<void> => expectSameOnThreads(bytes, feeds, rng.seed);

test(`MultiHeadAttention with past, bias, key padding mask and attention_bias: 1, 2, 3 threads give the same bits (seed ${rng.seed})`, async () => {
  const B = 2, S = 96, N = 4, H = 16, P = 40, T = P + S, D = N * H;
  const feeds = {
    q: f(B, S, D), k: f(B, S, D), v: f(B, S, D), bias: f(3 * D),
    mask: i32([B, T], Array.from({ length: B * T }, (_, i) => (i % 11 === 5 ? 0 : 1))),
    ab: f(1, N, S, T), pk: f(B, N, P, H), pv: f(B, N, P, H),
  };
  await sameOnThreads(oneNode('MultiHeadAttention', { num_heads: N }, feeds, ['q', 'k', 'v', 'bias', 'mask', 'ab', 'pk', 'pv'], 3), feeds);
});

test('GroupQueryAttention prompt with rotary, causal with past per batch: 1, 2, 3 threads give the same bits', async () => {
  const B = 2, S = 100, Nq = 8, Nkv = 2, H = 16, Pbuf = 60, total = 150, maxPos = 160;
  const feeds = {
    q: f(B, S, Nq * H), k: f(B, S, Nkv * H), v: f(B, S, Nkv * H), pk: f(B, Nkv, Pbuf, H), pv: f(B, Nkv, Pbuf, H),
    seqlens: i32([B], [total - 1, total - 11]),
  };
  const consts = { total: i32([], [total]), cos: f(maxPos, H / 2), sin: f(maxPos, H / 2) };
  await sameOnThreads(oneNode('GroupQueryAttention', { num_heads: Nq, kv_num_heads: Nkv, do_rotary: 1, local_window_size: 70 }, feeds, ['q', 'k', 'v', 'pk', 'pv', 'seqlens', 'total', 'cos', 'sin'], 3, consts), feeds);
});

test('ONNX Attention with a causal -1e9 float mask (the trimmed key ranges), head size 16: 1, 2, 3 threads give the same bits', async () => {
  const N = 4, S = 161, H = 16;
  const mask = new Tensor('float32', Float32Array.from({ length: S * S }, (_, i) => (i % S > Math.floor(i / S) ? -1e9 : 0)), [1, 1, S, S]);
  const feeds = { q: f(1, N, S, H), k: f(1, N, S, H), v: f(1, N, S, H), m: mask };
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'Attention', inputs: ['q', 'k', 'v', 'm'], outputs: ['o0'], attrs: {} }],
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: [{ name: 'o0', dtype: 'float32' }],
    opsets: { '': 23 },
  });
  await sameOnThreads(bytes, feeds);
});
