import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { EIGHT_BIT_TYPES } from '../common/quant.ts';
import { broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';


/**
 * MatMulInteger: numpy-style batched matmul of 8-bit operands minus their zero points, exact in
 * int32 (wrapping like int32 if it ever overflows). The shape logic, the row/column parameter
 * indexing and both integer cores (the plain reference loop here, the WGSL program in webgpu.ts)
 * are shared with QLinearMatMul, which only adds a requantizing epilogue. The reference loop is
 * the only CPU path (no js.ts).
 */

export interface IntMatmulShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** output batch dims (broadcast of both operands' leading dims) */
  readonly batchDims: readonly number[];
  readonly batch: number;
  readonly outDims: readonly number[];
  /** per output batch dim: element stride into A / B (0 where that operand broadcasts) */
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  /** A's / B's own batch count (its matrices) */
  readonly aMatrices: number;
  readonly bMatrices: number;
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;
const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

function batchStrides(batch: readonly number[], matrix: number, outBatch: readonly number[]): number[] {
  const shift = outBatch.length - batch.length;
  const s = new Array<number>(outBatch.length).fill(0);
  let acc = matrix;
  for (let d = batch.length - 1; d >= 0; d--) {
    if (batch[d] !== 1) s[d + shift] = acc;
    acc *= batch[d]!;
  }
  return s;
}

export function intMatmulShape(a: TensorMeta, b: TensorMeta, ctx: KernelContext): IntMatmulShape {
  if (a.dims.length === 0 || b.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': matmul inputs must have rank >= 1, got ${dimsText(a.dims)} and ${dimsText(b.dims)}`);
  // numpy: a 1-D A is a row vector, a 1-D B a column vector; their unit dim leaves the output
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const M = ad[ad.length - 2]!;
  const K = ad[ad.length - 1]!;
  const N = bd[bd.length - 1]!;
  if (bd[bd.length - 2] !== K) fail('INVALID_GRAPH', `node '${ctx.node}': A ${dimsText(a.dims)} and B ${dimsText(b.dims)} disagree on K (${K} vs ${bd[bd.length - 2]})`);
  const aBatch = ad.slice(0, -2);
  const bBatch = bd.slice(0, -2);
  const batchDims = broadcastShapes([aBatch, bBatch], ctx);
  const outDims = [...batchDims, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  return {
    M, K, N, batchDims, outDims,
    batch: sizeOf(batchDims),
    aBatchStrides: batchStrides(aBatch, M * K, batchDims),
    bBatchStrides: batchStrides(bBatch, K * N, batchDims),
    aMatrices: sizeOf(aBatch),
    bMatrices: sizeOf(bBatch),
  };
}

/**
 * A quantization parameter that varies along the rows of A / the output (`row`) or the columns of
 * B (`col`): a scalar, a vector over the rows/columns, or one vector per matrix of its operand
 * (shape [..., M, 1] or [..., 1, N], as MatMulInteger describes).
 */
export interface RowColParam {
  readonly kind: 'scalar' | 'vector' | 'batched';
}

export function rowColParam(meta: TensorMeta | undefined, operand: TensorMeta, which: 'row' | 'col', len: number, ctx: KernelContext, name: string): RowColParam {
  if (!meta || sizeOf(meta.dims) === 1) return { kind: 'scalar' };
  if (meta.dims.length === 1 && meta.dims[0] === len) return { kind: 'vector' };
  const r = operand.dims.length;
  const want = [...operand.dims.slice(0, -2), ...(which === 'row' ? [len, 1] : [1, len])];
  if (r >= 2 && meta.dims.length === r && meta.dims.every((d, i) => d === want[i])) return { kind: 'batched' };
  return fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(meta.dims)}, expected a scalar, [${len}] or ${dimsText(want)}`);
}

// ---------------------------------------------------------------------------------------------
// Reference core: a plain loop nest (zero points subtracted once per element, float64 sums).
// ---------------------------------------------------------------------------------------------

/** Value of a row/column parameter for `matrix` (the operand's own matrix index) and index i. */
export function paramAt(p: RowColParam, values: ArrayLike<number> | undefined, len: number, matrix: number, i: number): number {
  if (!values) return 0;
  return p.kind === 'scalar' ? values[0]! : p.kind === 'vector' ? values[i]! : values[matrix * len + i]!;
}

/**
 * The int32 accumulators (A - a_zp) x (B - b_zp), wrapped to int32, in output order. Sums stay
 * exact in float64 (|each product| <= 2^16), so wrapping once at the end equals int32 wrapping.
 */
export function intMatmulReference(a: AnyTensor, b: AnyTensor, s: IntMatmulShape, azp: { p: RowColParam; v: Float64Array } | undefined, bzp: { p: RowColParam; v: Float64Array } | undefined): Float64Array {
  const { M, K, N, batch, batchDims } = s;
  const av = toNumbers(a);
  const bv = toNumbers(b);
  // subtract zero points once per element, in place (each A / B element belongs to one matrix)
  if (azp) for (let mat = 0; mat < s.aMatrices; mat++) for (let m = 0; m < M; m++) {
    const z = paramAt(azp.p, azp.v, M, mat, m);
    const base = (mat * M + m) * K;
    for (let k = 0; k < K; k++) av[base + k]! -= z;
  }
  if (bzp) for (let mat = 0; mat < s.bMatrices; mat++) for (let k = 0; k < K; k++) {
    const base = (mat * K + k) * N;
    for (let n = 0; n < N; n++) bv[base + n]! -= paramAt(bzp.p, bzp.v, N, mat, n);
  }
  const out = new Float64Array(batch * M * N);
  const idx = new Array<number>(batchDims.length).fill(0);
  for (let bi = 0; bi < batch; bi++) {
    let aOff = 0;
    let bOff = 0;
    for (let d = 0; d < idx.length; d++) {
      aOff += idx[d]! * s.aBatchStrides[d]!;
      bOff += idx[d]! * s.bBatchStrides[d]!;
    }
    for (let m = 0; m < M; m++) {
      const o = (bi * M + m) * N;
      for (let k = 0; k < K; k++) {
        const x = av[aOff + m * K + k]!;
        if (x === 0) continue;
        const bRow = bOff + k * N;
        for (let n = 0; n < N; n++) out[o + n]! += x * bv[bRow + n]!;
      }
      for (let n = 0; n < N; n++) out[o + n] = out[o + n]! | 0;
    }
    for (let d = idx.length - 1; d >= 0 && ++idx[d]! === batchDims[d]!; d--) idx[d] = 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MatMulInteger
// ---------------------------------------------------------------------------------------------

export interface MatmulIntegerPlan {
  readonly shape: IntMatmulShape;
  readonly azp?: RowColParam;
  readonly bzp?: RowColParam;
}

export function matmulIntegerPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): MatmulIntegerPlan {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  requireType(a, EIGHT_BIT_TYPES, ctx, 'A');
  requireType(b, EIGHT_BIT_TYPES, ctx, 'B');
  const shape = intMatmulShape(a, b, ctx);
  const [az, bz] = [inputs[2], inputs[3]];
  if (az && az.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': a_zero_point type ${az.dtype} differs from A type ${a.dtype}`);
  if (bz && bz.dtype !== b.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': b_zero_point type ${bz.dtype} differs from B type ${b.dtype}`);
  return {
    shape,
    azp: az && rowColParam(az, a, 'row', shape.M, ctx, 'a_zero_point'),
    bzp: bz && rowColParam(bz, b, 'col', shape.N, ctx, 'b_zero_point'),
  };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'MatMulInteger',
    inferOutputs: (inputs, ctx) => [{ dtype: 'int32', dims: matmulIntegerPlan(inputs, ctx).shape.outDims }],
    reference(inputs, ctx) {
      const [a, b, az, bz] = inputs;
      const p = matmulIntegerPlan(inputs.map((t) => t && metaOf(t)), ctx);
      const acc = intMatmulReference(a!, b!, p.shape, az && p.azp && { p: p.azp, v: toNumbers(az) }, bz && p.bzp && { p: p.bzp, v: toNumbers(bz) });
      return [new Tensor('int32', Int32Array.from(acc), p.shape.outDims)];
    },
  },
];
