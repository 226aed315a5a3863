// onnxruntime's fused norm / activation / embedding contrib ops, RMSNormalization and both
// RotaryEmbeddings: Kiln's backends against onnxruntime-web (wasm, 1 thread) on seeded random
// inputs. BiasAdd and BiasSplitGelu have no kernel in onnxruntime-web's wasm build (CUDA only in
// onnxruntime): they are checked against hand-computed values instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { KilnError } from '../../core/errors.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors, type Tolerance } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from './op-harness.ts';

ort.env.wasm.numThreads = 1;

interface In {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly range?: readonly [number, number];
  readonly values?: readonly number[];
  /** an initializer rather than a fed input (4-bit tables: ort-web takes no int4 feeds from Kiln's layout) */
  readonly init?: boolean;
}

interface Case {
  readonly op: string;
  readonly domain?: string;
  readonly opset?: number;
  readonly attrs?: Readonly<Record<string, WriterAttribute>>;
  /** undefined: an omitted optional input */
  readonly inputs: readonly (In | undefined)[];
  /** output dtypes by slot; undefined: an omitted optional output */
  readonly outputs: readonly (DataType | undefined)[];
  readonly tolerance?: Tolerance;
}

const F32_TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };
const F16_TOL: Tolerance = { rtol: 2e-3, atol: 2e-3 };
const MS = 'com.microsoft';

function toOrt(t: AnyTensor): ort.Tensor {
  // int64 stays BigInt64Array, float16 stays its bit pattern (Uint16Array), as ort-web takes them
  return new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
}

function fromOrt(t: ort.Tensor): AnyTensor {
  const dims = [...t.dims];
  if (t.type === 'float16') {
    const d = t.data;
    return new Tensor('float16', d instanceof Uint16Array ? d : Uint16Array.from(d as ArrayLike<number>, (v) => v), dims);
  }
  return new Tensor(t.type as DataType, t.data as Float32Array, dims);
}

async function matchesOrt(name: string, c: Case): Promise<void> {
  const rng = testRng(import.meta.url, name);
  const feeds: Record<string, AnyTensor> = {};
  const initializers: Record<string, AnyTensor> = {};
  const inputs: { name: string; dtype: DataType; dims: readonly number[] }[] = [];
  const names = c.inputs.map((spec, i) => {
    if (!spec) return '';
    const n = `in${i}`;
    const t = randomTensor(spec, rng);
    if (spec.init) initializers[n] = t;
    else {
      feeds[n] = t;
      inputs.push({ name: n, dtype: spec.dtype, dims: spec.dims });
    }
    return n;
  });
  const outs = c.outputs.map((d, i) => (d ? `out${i}` : ''));
  const opsets: Record<string, number> = { '': c.opset ?? 17 };
  if (c.domain) opsets[c.domain] = 1;
  const bytes = encodeOnnxModel({
    nodes: [{ opType: c.op, domain: c.domain ?? '', inputs: names, outputs: outs, attrs: c.attrs ?? {} }],
    inputs,
    outputs: c.outputs.flatMap((d, i) => (d ? [{ name: `out${i}`, dtype: d }] : [])),
    initializers,
    opsets,
  });
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = await theirs.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  await theirs.release();
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = await s.run(feeds);
      if (provider === 'webgpu') assert.equal(s.lastPlacement?.cpu ?? 1, 0, `${name}: ${c.op} fell back to the CPU on webgpu`);
      for (const out of outs.filter(Boolean)) {
        const problem = compareTensors(got[out]!, fromOrt(want[out]!), c.tolerance ?? F32_TOL);
        assert.equal(problem, undefined, `${name} ${out} on ${provider} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
}

const f32 = (...dims: number[]): In => ({ dtype: 'float32', dims });
const f16 = (...dims: number[]): In => ({ dtype: 'float16', dims });
const int = (dtype: DataType, dims: number[], lo: number, hi: number, init = false): In => ({ dtype, dims, range: [lo, hi], init });

test('SkipLayerNormalization, SkipSimplifiedLayerNormalization: output and input_skip_bias_sum as onnxruntime computes them', async () => {
  // onnxruntime's CPU kernel leaves mean / inv_std_var unwritten: only outputs 0 and 3 are compared
  await matchesOrt('skip ln beta bias', { op: 'SkipLayerNormalization', domain: MS, attrs: { epsilon: 1e-5 }, inputs: [f32(2, 3, 16), f32(2, 3, 16), f32(16), f32(16), f32(16)], outputs: ['float32', undefined, undefined, 'float32'] });
  await matchesOrt('skip ln default epsilon', { op: 'SkipLayerNormalization', domain: MS, inputs: [f32(2, 5, 7), f32(2, 5, 7), f32(7)], outputs: ['float32'] });
  await matchesOrt('skip ln skip (1,S,H)', { op: 'SkipLayerNormalization', domain: MS, inputs: [f32(3, 4, 13), f32(1, 4, 13), f32(13), f32(13)], outputs: ['float32', undefined, undefined, 'float32'] });
  await matchesOrt('skip ln skip (S,H) bias only', { op: 'SkipLayerNormalization', domain: MS, inputs: [f32(2, 4, 9), f32(4, 9), f32(9), undefined, f32(9)], outputs: ['float32', undefined, undefined, 'float32'] });
  await matchesOrt('skip ln rank 2', { op: 'SkipLayerNormalization', domain: MS, inputs: [f32(6, 768), f32(6, 768), f32(768), f32(768), f32(768)], outputs: ['float32'] });
  await matchesOrt('skip ln f16', { op: 'SkipLayerNormalization', domain: MS, inputs: [f16(2, 3, 24), f16(2, 3, 24), f16(24), f16(24), f16(24)], outputs: ['float16', undefined, undefined, 'float16'], tolerance: F16_TOL });
  await matchesOrt('skip simplified bias', { op: 'SkipSimplifiedLayerNormalization', domain: MS, attrs: { epsilon: 1e-6 }, inputs: [f32(2, 3, 11), f32(2, 3, 11), f32(11), f32(11)], outputs: ['float32', undefined, undefined, 'float32'] });
  await matchesOrt('skip simplified skip (S,H)', { op: 'SkipSimplifiedLayerNormalization', domain: MS, inputs: [f32(3, 2, 10), f32(2, 10), f32(10)], outputs: ['float32'] });
  await matchesOrt('skip simplified f16', { op: 'SkipSimplifiedLayerNormalization', domain: MS, inputs: [f16(2, 2, 32), f16(2, 2, 32), f16(32), f16(32)], outputs: ['float16', undefined, undefined, 'float16'], tolerance: F16_TOL });
});

test('SimplifiedLayerNormalization (ai.onnx, as onnxruntime registers it) and RMSNormalization (opset 23)', async () => {
  await matchesOrt('simplified with inv_std_var', { op: 'SimplifiedLayerNormalization', attrs: { epsilon: 1e-6 }, inputs: [f32(2, 3, 17), f32(17)], outputs: ['float32', 'float32'] });
  await matchesOrt('simplified axis 1', { op: 'SimplifiedLayerNormalization', attrs: { axis: 1 }, inputs: [f32(2, 3, 5), f32(3, 5)], outputs: ['float32'] });
  await matchesOrt('simplified f16', { op: 'SimplifiedLayerNormalization', inputs: [f16(3, 40), f16(40)], outputs: ['float16'], tolerance: F16_TOL });
  await matchesOrt('rms default', { op: 'RMSNormalization', opset: 23, inputs: [f32(2, 3, 9), f32(9)], outputs: ['float32'] });
  await matchesOrt('rms axis -2 epsilon', { op: 'RMSNormalization', opset: 23, attrs: { axis: -2, epsilon: 0.1 }, inputs: [f32(2, 4, 6), f32(4, 6)], outputs: ['float32'] });
  await matchesOrt('rms f16', { op: 'RMSNormalization', opset: 23, inputs: [f16(5, 12), f16(12)], outputs: ['float16'], tolerance: F16_TOL });
});

test('FastGelu, BiasGelu, QuickGelu', async () => {
  const wide = (...dims: number[]): In => ({ dtype: 'float32', dims, range: [-6, 6] });
  await matchesOrt('fastgelu bias', { op: 'FastGelu', domain: MS, inputs: [wide(2, 3, 7), f32(7)], outputs: ['float32'] });
  await matchesOrt('fastgelu no bias', { op: 'FastGelu', domain: MS, inputs: [wide(4, 33)], outputs: ['float32'] });
  await matchesOrt('fastgelu f16', { op: 'FastGelu', domain: MS, inputs: [f16(4, 10), f16(10)], outputs: ['float16'], tolerance: F16_TOL });
  await matchesOrt('biasgelu', { op: 'BiasGelu', domain: MS, inputs: [wide(3, 5, 9), f32(9)], outputs: ['float32'] });
  await matchesOrt('quickgelu default', { op: 'QuickGelu', domain: MS, inputs: [wide(4, 11)], outputs: ['float32'] });
  await matchesOrt('quickgelu alpha', { op: 'QuickGelu', domain: MS, attrs: { alpha: 1.3 }, inputs: [wide(2, 3, 5)], outputs: ['float32'] });
});

test('EmbedLayerNormalization: output, mask_index, embedding_sum', async () => {
  const ids = (dims: number[], rows: number): In => int('int32', dims, 0, rows);
  await matchesOrt('embed bert', { op: 'EmbedLayerNormalization', domain: MS, attrs: { epsilon: 1e-5 }, inputs: [ids([2, 5], 30), ids([2, 5], 2), f32(30, 16), f32(8, 16), f32(2, 16), f32(16), f32(16), ids([2, 5], 2)], outputs: ['float32', 'int32', 'float32'] });
  await matchesOrt('embed no mask', { op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([2, 4], 20), ids([2, 4], 2), f32(20, 12), f32(4, 12), f32(2, 12), f32(12), f32(12)], outputs: ['float32', 'int32'] });
  await matchesOrt('embed position ids', { op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([2, 3], 10), ids([2, 3], 3), f32(10, 9), f32(16, 9), f32(3, 9), f32(9), f32(9), ids([2, 3], 2), ids([2, 3], 16)], outputs: ['float32', 'int32', 'float32'] });
});

test('GatherBlockQuantized: int4, uint4 and uint8 (MatMulNBits layout) tables', async () => {
  const idx = (dims: number[], lo: number, hi: number): In => int('int64', dims, lo, hi);
  const sc = (...dims: number[]): In => ({ dtype: 'float32', dims, range: [0.01, 0.5], init: true });
  const GBQ = 'GatherBlockQuantized';
  await matchesOrt('gbq int4 zp', { op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int('int4', [6, 40], -8, 8, true), idx([4], -6, 6), sc(6, 3), int('int4', [6, 3], -8, 8, true)], outputs: ['float32'] });
  await matchesOrt('gbq uint4 no zp', { op: GBQ, domain: MS, attrs: { block_size: 32 }, inputs: [int('uint4', [5, 64], 0, 16, true), idx([2, 2], 0, 5), sc(5, 2)], outputs: ['float32'] });
  await matchesOrt('gbq int4 gather axis 1', { op: GBQ, domain: MS, attrs: { block_size: 16, gather_axis: 1, quantize_axis: 0 }, inputs: [int('int4', [20, 6], -8, 8, true), idx([3], 0, 6), sc(2, 6)], outputs: ['float32'] });
  await matchesOrt('gbq uint8 bits 4 default zp', { op: GBQ, domain: MS, attrs: { block_size: 16, bits: 4 }, inputs: [int('uint8', [5, 16], 0, 256, true), idx([3], 0, 5), sc(5, 2)], outputs: ['float32'] });
  await matchesOrt('gbq uint8 bits 4 packed zp', { op: GBQ, domain: MS, attrs: { block_size: 16, bits: 4 }, inputs: [int('uint8', [4, 24], 0, 256, true), idx([2, 2], 0, 4), sc(4, 3), int('uint8', [4, 2], 0, 256, true)], outputs: ['float32'] });
  await matchesOrt('gbq uint8 bits 8 zp', { op: GBQ, domain: MS, attrs: { block_size: 16, bits: 8 }, inputs: [int('uint8', [4, 32], 0, 256, true), idx([3], 0, 4), sc(4, 2), int('uint8', [4, 2], 0, 256, true)], outputs: ['float32'] });
  await matchesOrt('gbq int4 f16 scales', { op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int('int4', [6, 32], -8, 8, true), idx([3], 0, 6), { dtype: 'float16', dims: [6, 2], range: [0.01, 0.5], init: true }], outputs: ['float16'], tolerance: F16_TOL });
  await matchesOrt('gbq int4 rank 3 quantize axis 2 zp', { op: GBQ, domain: MS, attrs: { block_size: 16, quantize_axis: 2 }, inputs: [int('int4', [4, 3, 32], -8, 8, true), idx([2, 2], 0, 4), sc(4, 3, 2), int('int4', [4, 3, 2], -8, 8, true)], outputs: ['float32'] });
  await matchesOrt('gbq negative indices', { op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int('int4', [3, 16], -8, 8, true), { dtype: 'int64', dims: [4], values: [0, -3, 2, -1] }, sc(3, 1)], outputs: ['float32'] });
});

test('GatherBlockQuantized: an index out of range is an error, as in onnxruntime-web', async () => {
  const data = new Tensor('int4', Int8Array.from({ length: 48 }, (_, i) => (i % 16) - 8), [3, 16]);
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'GatherBlockQuantized', domain: MS, inputs: ['d', 'i', 's'], outputs: ['y'], attrs: { block_size: 16 } }],
    inputs: [{ name: 'i', dtype: 'int64', dims: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { d: data, s: new Tensor('float32', Float32Array.from([0.5, 0.25, 0.125]), [3, 1]) },
    opsets: { '': 17, [MS]: 1 },
  });
  const i = new Tensor('int64', BigInt64Array.from([0n, 3n]), [2]);
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  await assert.rejects(theirs.run({ i: toOrt(i) }), /out of data bounds/);
  await theirs.release();
  for (const provider of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    await assert.rejects(s.run({ i }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /indices element 3 is out of data bounds \[-3, 2\]/.test(e.message));
    await s.release();
  }
});

test('RotaryEmbedding: com.microsoft and ai.onnx opset 23', async () => {
  const cache = (...dims: number[]): In => ({ dtype: 'float32', dims, range: [-1, 1] });
  const pos = (dims: number[], hi: number): In => int('int64', dims, 0, hi);
  const R = 'RotaryEmbedding';
  await matchesOrt('rope contrib ids', { op: R, domain: MS, inputs: [f32(2, 3, 16), pos([2, 3], 10), cache(10, 8), cache(10, 8)], outputs: ['float32'] });
  await matchesOrt('rope contrib interleaved', { op: R, domain: MS, attrs: { interleaved: 1 }, inputs: [f32(2, 3, 16), pos([2, 3], 10), cache(10, 8), cache(10, 8)], outputs: ['float32'] });
  await matchesOrt('rope contrib offset', { op: R, domain: MS, inputs: [f32(2, 4, 12), { dtype: 'int64', dims: [1], values: [3] }, cache(8, 6), cache(8, 6)], outputs: ['float32'] });
  await matchesOrt('rope contrib partial', { op: R, domain: MS, attrs: { num_heads: 2, rotary_embedding_dim: 4 }, inputs: [f32(2, 3, 20), pos([2, 3], 9), cache(9, 2), cache(9, 2)], outputs: ['float32'] });
  await matchesOrt('rope contrib 4-D', { op: R, domain: MS, inputs: [f32(2, 3, 4, 8), pos([2, 4], 6), cache(6, 4), cache(6, 4)], outputs: ['float32'] });
  await matchesOrt('rope onnx 4-D', { op: R, opset: 23, inputs: [f32(2, 3, 4, 8), cache(10, 4), cache(10, 4), pos([2, 4], 10)], outputs: ['float32'] });
  await matchesOrt('rope onnx 3-D interleaved', { op: R, opset: 23, attrs: { num_heads: 2, interleaved: 1 }, inputs: [f32(2, 3, 12), cache(8, 3), cache(8, 3), pos([2, 3], 8)], outputs: ['float32'] });
  await matchesOrt('rope onnx no position ids, partial', { op: R, opset: 23, attrs: { rotary_embedding_dim: 4 }, inputs: [f32(1, 2, 3, 10), cache(1, 3, 2), cache(1, 3, 2)], outputs: ['float32'] });
});

test('BiasAdd and BiasSplitGelu (no onnxruntime-web kernel): hand-computed values', async () => {
  const gelu1 = 0.8413447460685429; // Gelu(1) = 1 * Phi(1)
  const run = async (op: string, inputs: Record<string, AnyTensor>, dims: number[]): Promise<void> => {
    const names = Object.keys(inputs);
    const bytes = encodeOnnxModel({
      nodes: [{ opType: op, domain: MS, inputs: names, outputs: ['y'], attrs: {} }],
      inputs: names.map((n) => ({ name: n, dtype: 'float32', dims: inputs[n]!.dims })),
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: {},
      opsets: { '': 17, [MS]: 1 },
    });
    const want = op === 'BiasAdd' ? [3.5, 4, -1, 0.25] : [2 * gelu1, 0, 0, 0];
    for (const provider of ['js', 'wasm', 'webgpu'] as const) {
      const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
      try {
        const y = (await s.run(inputs)).y!;
        const problem = compareTensors(y, new Tensor('float32', Float32Array.from(want), dims), F32_TOL);
        assert.equal(problem, undefined, `${op} on ${provider}: ${problem}`);
      } finally {
        await s.release();
      }
    }
  };
  const t = (v: number[], dims: number[]): AnyTensor => new Tensor('float32', Float32Array.from(v), dims);
  // x + bias + skip
  await run('BiasAdd', { x: t([1, 2, -1, 0], [1, 2, 2]), bias: t([0.5, -1], [2]), skip: t([2, 3, -0.5, 1.25], [1, 2, 2]) }, [1, 2, 2]);
  // rows of x + bias = [2, 2 | 1, 0] and [0, 3 | 0, -7]: left * Gelu(right) = [2 Gelu(1), 2 Gelu(0) = 0] and [0, 3 Gelu(-7) ~ -3e-11]
  await run('BiasSplitGelu', { x: t([1, 2, 0, 1, -1, 3, -1, -6], [1, 2, 4]), bias: t([1, 0, 1, -1], [4]) }, [1, 2, 2]);
});
