import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { EIGHT_BIT_TYPES } from '../common/quant.ts';
import { broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuProgram } from '../webgpu/contract.ts';

/**
 * MatMulInteger: numpy-style batched matmul of 8-bit operands minus their zero points, exact in
 * int32 (wrapping like int32 if it ever overflows). The shape logic, the row/column parameter
 * indexing and both the CPU and WGSL integer cores are shared with QLinearMatMul, which only adds
 * a requantizing epilogue.
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
// CPU core
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
export function intMatmulCpu(a: AnyTensor, b: AnyTensor, s: IntMatmulShape, azp: { p: RowColParam; v: Float64Array } | undefined, bzp: { p: RowColParam; v: Float64Array } | undefined): Float64Array {
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
// WebGPU core: each invocation owns a TM x TN register tile of one output matrix, accumulating in
// i32. A packed B (an int8/uint8 constant weight) with N % 4 == 0 is read a word at a time: one
// u32 holds the tile's four columns for one k.
// ---------------------------------------------------------------------------------------------

export interface IntMatmulGpuSpec {
  readonly b: ShaderBuilder;
  readonly A: TensorVar;
  readonly B: TensorVar;
  readonly bMeta: TensorMeta;
  readonly shape: IntMatmulShape;
  readonly azp?: { readonly v: TensorVar; readonly p: RowColParam };
  readonly bzp?: { readonly v: TensorVar; readonly p: RowColParam };
  /**
   * WGSL statements storing accumulator `acc` (i32) for output row `m`, column `n` at flat output
   * offset `o`; `amat` / `bmat` are the operands' own matrix indices (for batched parameters).
   */
  readonly epilogue: (acc: string, m: string, n: string, o: string) => string;
  readonly label: string;
}

const TN = 4;

export function intMatmulProgram(spec: IntMatmulGpuSpec): GpuProgram {
  const { b, A, B, shape: s } = spec;
  const tm = Math.min(4, Math.max(1, s.M));
  const nrb = Math.ceil(s.M / tm);
  const ncb = Math.ceil(s.N / TN);
  const total = s.M * s.N === 0 ? 0 : s.batch * nrb * ncb;
  const u = {
    total: b.uniform('total', 'u32', total),
    ncb: b.uniform('ncb', 'u32', ncb),
    nrb: b.uniform('nrb', 'u32', nrb),
    M: b.uniform('M', 'u32', s.M),
    K: b.uniform('K', 'u32', s.K),
    N: b.uniform('N', 'u32', s.N),
  };
  const br = s.batchDims.length;
  const bDims = b.uniformArray('batch_dims', 'u32', s.batchDims);
  const aStr = b.uniformArray('a_bstrides', 'u32', s.aBatchStrides);
  const bStr = b.uniformArray('b_bstrides', 'u32', s.bBatchStrides);
  const words = spec.bMeta.packed === true && s.N % 4 === 0;
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${u.total}) { return; }`);
  line(`let M = ${u.M}; let K = ${u.K}; let N = ${u.N};`);
  line(`let cb = global_idx % ${u.ncb};`);
  line(`let rb = (global_idx / ${u.ncb}) % ${u.nrb};`);
  line(`let bi = global_idx / (${u.ncb} * ${u.nrb});`);
  line('var a_off = 0u; var b_off = 0u;');
  if (br > 0) {
    line('var rest = bi;');
    for (let d = br - 1; d >= 0; d--) {
      line(`{ let i = rest % ${bDims}(${d}u); rest = rest / ${bDims}(${d}u); a_off += i * ${aStr}(${d}u); b_off += i * ${bStr}(${d}u); }`);
    }
  }
  line('let amat = a_off / max(M * K, 1u);');
  line('let bmat = b_off / max(K * N, 1u);');
  const zp = (z: IntMatmulGpuSpec['azp'], mat: string, len: string, i: string): string => {
    if (!z) return '0';
    const off = z.p.kind === 'scalar' ? '0u' : z.p.kind === 'vector' ? i : `${mat} * ${len} + ${i}`;
    return `i32(${z.v.get(off)})`;
  };
  for (let i = 0; i < tm; i++) {
    line(`let m${i} = min(rb * ${tm}u + ${i}u, M - 1u);`);
    line(`let ar${i} = a_off + m${i} * K;`);
    line(`let za${i} = ${zp(spec.azp, 'amat', 'M', `m${i}`)};`);
  }
  for (let j = 0; j < TN; j++) {
    line(`let n${j} = min(cb * ${TN}u + ${j}u, N - 1u);`);
    line(`let zb${j} = ${zp(spec.bzp, 'bmat', 'N', `n${j}`)};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`var acc${i}_${j} = 0;`);
  line('for (var k = 0u; k < K; k++) {');
  for (let i = 0; i < tm; i++) line(`  let a${i} = i32(${A.get(`ar${i} + k`)}) - za${i};`);
  if (words) {
    // the tile's columns n0..n0+3 share one word of B's row k (n0 and N are multiples of 4)
    line(`  let w = ${B.name}[(b_off + k * N + n0) >> 2u];`);
    for (let j = 0; j < TN; j++) {
      const v = B.type === 'i32' ? `extractBits(bitcast<i32>(w), ${8 * j}u, 8u)` : `i32(extractBits(w, ${8 * j}u, 8u))`;
      line(`  let b${j} = ${v} - zb${j};`);
    }
  } else {
    line('  let br = b_off + k * N;');
    for (let j = 0; j < TN; j++) line(`  let b${j} = i32(${B.get(`br + n${j}`)}) - zb${j};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`  acc${i}_${j} += a${i} * b${j};`);
  line('}');
  // The epilogue runs in a loop over the tile, not unrolled: requantization helpers are long and
  // the shader compiler inlines every call site.
  const list = (xs: string[]): string => xs.join(', ');
  line(`var accs = array<i32, ${tm * TN}>(${list(Array.from({ length: tm * TN }, (_, t) => `acc${Math.floor(t / TN)}_${t % TN}`))});`);
  line(`var ms = array<u32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => `m${i}`))});`);
  line(`var ns = array<u32, ${TN}>(${list(Array.from({ length: TN }, (_, j) => `n${j}`))});`);
  line(`for (var t = 0u; t < ${tm * TN}u; t++) {`);
  line(`  let ti = t / ${TN}u; let tj = t % ${TN}u;`);
  line(`  if (rb * ${tm}u + ti >= M || cb * ${TN}u + tj >= N) { continue; }`);
  line('  let m = ms[ti]; let n = ns[tj];');
  line('  let o = (bi * M + m) * N + n;');
  L.push(spec.epilogue('accs[t]', 'm', 'n', 'o').split('\n').map((t) => `    ${t}`).join('\n'));
  line('}');
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: total });
}

/** The GPU view of a (possibly rank-0) tensor: rank 0 reads as [1]. */
export const gpuMeta = (m: TensorMeta): TensorMeta => (m.dims.length ? m : { ...m, dims: [1] });

// ---------------------------------------------------------------------------------------------
// MatMulInteger
// ---------------------------------------------------------------------------------------------

interface Plan {
  readonly shape: IntMatmulShape;
  readonly azp?: RowColParam;
  readonly bzp?: RowColParam;
}

function plan(inputs: readonly MaybeMeta[], ctx: KernelContext): Plan {
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

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'MatMulInteger',
    inferOutputs: (inputs, ctx) => [{ dtype: 'int32', dims: plan(inputs, ctx).shape.outDims }],
    cpu(inputs, ctx) {
      const [a, b, az, bz] = inputs;
      const p = plan(inputs.map((t) => t && metaOf(t)), ctx);
      const acc = intMatmulCpu(a!, b!, p.shape, az && p.azp && { p: p.azp, v: toNumbers(az) }, bz && p.bzp && { p: p.bzp, v: toNumbers(bz) });
      return [new Tensor('int32', Int32Array.from(acc), p.shape.outDims)];
    },
    webgpu(inputs, outputs, ctx: GpuKernelContext) {
      const p = plan(inputs, ctx);
      const b = new ShaderBuilder(ctx.caps);
      const A = b.input('A', inputs[0]!, 0);
      const B = b.input('B', inputs[1]!, 1);
      const AZ = inputs[2] && p.azp ? { v: b.input('AZ', gpuMeta(inputs[2]), 2), p: p.azp } : undefined;
      const BZ = inputs[3] && p.bzp ? { v: b.input('BZ', gpuMeta(inputs[3]), 3), p: p.bzp } : undefined;
      const Y = b.output('Y', gpuMeta(outputs[0]!));
      const program = intMatmulProgram({
        b, A, B, bMeta: inputs[1]!, shape: p.shape, azp: AZ, bzp: BZ,
        epilogue: (acc, _m, _n, o) => Y.set(o, acc),
        label: `MatMulInteger:${ctx.node}`,
      });
      return { kind: 'programs', programs: [program] };
    },
  },
];
