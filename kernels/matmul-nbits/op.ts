import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { unaryEpilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';

/**
 * com.microsoft MatMulNBits: Y = A x dequant(B)^T (+ bias). B holds N rows of K weights quantized
 * in blocks of `block_size` along K, packed low bits first (`bits` = 2, 4 or 8), one scale and
 * zero point per (row, block): w = (q - zero_point) * scale. Zero points are packed uint8 like B,
 * or unpacked in A's float type; absent, they are 2^(bits-1). The deprecated g_idx (a block index
 * per k) runs on the CPU only.
 *
 * The GPU never materializes the float weight: B stays packed (a u32 word holds 32/bits weights of
 * one row), each workgroup owns a tile of TM rows of A x TN columns of Y, its invocations split the
 * K blocks between them and sum per block before scaling (sum a*(q-zp) then * scale), then reduce
 * through shared memory. f32 accumulation. On the CPU, js.ts dequantizes B once per weight and
 * runs unrolled dot products; the reference below dequantizes each weight where it is used.
 */

// inputs: A, B, scales, zero_points, g_idx, bias
export const IA = 0, IB = 1, IS = 2, IZ = 3, IG = 4, IBIAS = 5;

export interface NBitsPlan {
  readonly K: number;
  readonly N: number;
  readonly M: number;
  readonly bits: number;
  readonly blockSize: number;
  readonly nBlocks: number;
  /** bytes per (row, block) */
  readonly blob: number;
  /** bytes of packed uint8 zero points per row */
  readonly zpRowBytes: number;
  readonly zp: 'none' | 'packed' | 'float';
  readonly out: TensorMeta;
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function nbitsPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): NBitsPlan {
  const a = requireInput(inputs, IA, ctx);
  const b = requireInput(inputs, IB, ctx);
  const s = requireInput(inputs, IS, ctx);
  requireType(a, FLOAT_TYPES, ctx, 'A');
  requireType(b, ['uint8'], ctx, 'B');
  if (s.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': scales type ${s.dtype} differs from A type ${a.dtype}`);
  const K = ctx.attrs.int('K', 0);
  const N = ctx.attrs.int('N', 0);
  const bits = ctx.attrs.int('bits', 4);
  const blockSize = ctx.attrs.int('block_size', 0);
  if (K < 1 || N < 1) fail('INVALID_GRAPH', `node '${ctx.node}': attributes K and N must be >= 1, got K=${K}, N=${N}`);
  if (![2, 4, 8].includes(bits)) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': MatMulNBits with bits=${bits} is not supported (2, 4 or 8)`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': block_size must be a power of 2 >= 16, got ${blockSize}`);
  if (a.dims.length === 0 || a.dims[a.dims.length - 1] !== K) fail('INVALID_GRAPH', `node '${ctx.node}': A has shape ${dimsText(a.dims)}, expected its last dim to be K=${K}`);
  const nBlocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  if (product(b.dims) !== N * nBlocks * blob || b.dims[0] !== N) fail('INVALID_GRAPH', `node '${ctx.node}': B has shape ${dimsText(b.dims)}, expected [${N}, ${nBlocks}, ${blob}]`);
  if (product(s.dims) !== N * nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': scales has shape ${dimsText(s.dims)}, expected ${N * nBlocks} values ([${N}, ${nBlocks}])`);
  const zpRowBytes = Math.ceil((nBlocks * bits) / 8);
  const z = inputs[IZ];
  let zp: NBitsPlan['zp'] = 'none';
  if (z) {
    if (z.dtype === 'uint8') {
      zp = 'packed';
      if (product(z.dims) !== N * zpRowBytes) fail('INVALID_GRAPH', `node '${ctx.node}': uint8 zero_points has shape ${dimsText(z.dims)}, expected ${N * zpRowBytes} bytes ([${N}, ${zpRowBytes}])`);
    } else {
      if (z.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points type ${z.dtype} is neither uint8 nor A's type ${a.dtype}`);
      zp = 'float';
      if (product(z.dims) !== N * nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points has shape ${dimsText(z.dims)}, expected ${N * nBlocks} values ([${N}, ${nBlocks}])`);
    }
  }
  const g = inputs[IG];
  if (g) {
    requireType(g, ['int32'], ctx, 'g_idx');
    if (product(g.dims) !== K) fail('INVALID_GRAPH', `node '${ctx.node}': g_idx has shape ${dimsText(g.dims)}, expected [${K}]`);
  }
  const bias = inputs[IBIAS];
  if (bias) {
    if (bias.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': bias type ${bias.dtype} differs from A type ${a.dtype}`);
    if (product(bias.dims) !== N) fail('INVALID_GRAPH', `node '${ctx.node}': bias has shape ${dimsText(bias.dims)}, expected [${N}]`);
  }
  return {
    K, N, bits, blockSize, nBlocks, blob, zpRowBytes, zp,
    M: product(a.dims, 0, a.dims.length - 1),
    out: { dtype: a.dtype, dims: [...a.dims.slice(0, -1), N] },
  };
}

/** The block of weight k: g_idx's entry when given (checked), else k / block_size. */
export function blockOfK(g: Int32Array | undefined, k: number, p: NBitsPlan, ctx: KernelContext): number {
  const blk = g ? g[k]! : Math.floor(k / p.blockSize);
  if (blk < 0 || blk >= p.nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': g_idx[${k}] = ${blk} is outside [0, ${p.nBlocks})`);
  return blk;
}

/** B dequantized into a float32 [N, K] matrix, w = (q - zero_point) * scale (js.ts caches it; the wasm kernel copies small ones). */
export function dequantizeNBits(inputs: readonly MaybeTensor[], p: NBitsPlan, ctx: KernelContext): Float32Array {
  const { K, N, bits, blockSize, nBlocks, blob } = p;
  const q = inputs[IB]!.data as Uint8Array;
  const scales = toNumbers(inputs[IS]!);
  const zt = inputs[IZ];
  const zf = zt && p.zp === 'float' ? toNumbers(zt) : undefined;
  const zb = zt && p.zp === 'packed' ? (zt.data as Uint8Array) : undefined;
  const g = inputs[IG] ? (inputs[IG].data as Int32Array) : undefined;
  const mask = (1 << bits) - 1;
  const w = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const blk = blockOfK(g, k, p, ctx);
      const bitPos = (k % blockSize) * bits;
      const v = (q[(n * nBlocks + Math.floor(k / blockSize)) * blob + (bitPos >> 3)]! >> (bitPos & 7)) & mask;
      let z = 1 << (bits - 1);
      if (zf) z = zf[n * nBlocks + blk]!;
      else if (zb) z = (zb[n * p.zpRowBytes + ((blk * bits) >> 3)]! >> ((blk * bits) & 7)) & mask;
      w[n * K + k] = (v - z) * scales[n * nBlocks + blk]!;
    }
  }
  return w;
}

/**
 * The plain reference: y[m, n] = sum over k of A[m, k] * w(n, k) (+ bias[n]), each weight unpacked
 * where it is used: its `bits` bits at position (k mod block_size) of row n's storage block
 * k / block_size, minus its block's zero point (packed uint8, float, or 2^(bits-1)), times its
 * block's scale, rounded to float32 as the fast path and the GPU (f32 arithmetic) hold it.
 */
function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = nbitsPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { M, N, K, bits, blockSize, nBlocks, blob } = p;
  const a = toNumbers(inputs[IA]!);
  const q = inputs[IB]!.data as Uint8Array;
  const scales = toNumbers(inputs[IS]!);
  const zt = inputs[IZ];
  const zf = zt && p.zp === 'float' ? toNumbers(zt) : undefined;
  const g = inputs[IG] ? (inputs[IG].data as Int32Array) : undefined;
  const bias = inputs[IBIAS] && toNumbers(inputs[IBIAS]);
  const mask = (1 << bits) - 1;
  const zeroPoint = (n: number, blk: number): number => {
    if (!zt) return 1 << (bits - 1);
    if (zf) return zf[n * nBlocks + blk]!;
    const bit = blk * bits;
    return ((zt.data as Uint8Array)[n * p.zpRowBytes + (bit >> 3)]! >> (bit & 7)) & mask;
  };
  const weight = (n: number, k: number): number => {
    const blk = blockOfK(g, k, p, ctx);
    const bit = (k % blockSize) * bits;
    const v = (q[(n * nBlocks + Math.floor(k / blockSize)) * blob + (bit >> 3)]! >> (bit & 7)) & mask;
    return Math.fround((v - zeroPoint(n, blk)) * scales[n * nBlocks + blk]!);
  };
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) sum += a[m * K + k]! * weight(n, k);
      y[m * N + n] = sum;
    }
  }
  return [fromNumbers(p.out.dtype, p.out.dims, withEpilogue(unaryEpilogueOf(ctx.attrs, ctx.node), y))];
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inferOutputs(inputs, ctx) {
      unaryEpilogueOf(ctx.attrs, ctx.node);
      return [nbitsPlan(inputs, ctx).out];
    },
    reference,
  },
];
