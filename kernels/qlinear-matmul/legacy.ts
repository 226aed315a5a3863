import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { clampTo, EIGHT_BIT_TYPES, mulRoundHalfEven, precisionOf, quantRange, requantMultiplier } from '../common/quant.ts';
import { wgslDivExact, wgslRequant, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { gpuMeta, intMatmulCpu, intMatmulProgram, intMatmulShape, paramAt, rowColParam, type IntMatmulShape, type RowColParam } from '../matmul-integer/legacy.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext } from '../webgpu/contract.ts';

/**
 * QLinearMatMul: y = saturate(round_half_even(acc * a_scale * b_scale / y_scale) + y_zero_point)
 * with acc the exact int32 product of the zero-point-shifted operands (matmul-integer.ts). The
 * multiplier is computed in the scales' type (float32, or float16 since opset 21) step by step as
 * the ONNX reference does, and acc * multiplier is rounded exactly (common/quant.ts).
 * a and y parameters may vary per row, b parameters per column.
 */

const SCALE_TYPES = ['float32', 'float16'] as const;
// inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
const A = 0, AS = 1, AZ = 2, B = 3, BS = 4, BZ = 5, YS = 6, YZ = 7;

interface Plan {
  readonly shape: IntMatmulShape;
  readonly out: TensorMeta;
  readonly range: readonly [number, number];
  readonly params: readonly (RowColParam | undefined)[];
}

function plan(inputs: readonly MaybeMeta[], ctx: KernelContext): Plan {
  const a = requireInput(inputs, A, ctx);
  const b = requireInput(inputs, B, ctx);
  requireType(a, EIGHT_BIT_TYPES, ctx, 'a');
  requireType(b, EIGHT_BIT_TYPES, ctx, 'b');
  const shape = intMatmulShape(a, b, ctx);
  const as = requireInput(inputs, AS, ctx);
  requireType(as, SCALE_TYPES, ctx, 'a_scale');
  for (const [slot, name] of [[BS, 'b_scale'], [YS, 'y_scale']] as const) {
    const s = requireInput(inputs, slot, ctx);
    if (s.dtype !== as.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${s.dtype} differs from a_scale type ${as.dtype}`);
  }
  for (const [slot, of, name] of [[AZ, a, 'a_zero_point'], [BZ, b, 'b_zero_point']] as const) {
    const z = inputs[slot];
    if (z && z.dtype !== of.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${z.dtype} differs from its operand's type ${of.dtype}`);
  }
  const yz = inputs[YZ];
  if (yz) requireType(yz, EIGHT_BIT_TYPES, ctx, 'y_zero_point');
  const dtype = yz?.dtype ?? a.dtype;
  const outMatrix: TensorMeta = { dtype, dims: [...shape.batchDims, shape.M, shape.N] };
  const params: (RowColParam | undefined)[] = [];
  params[AS] = rowColParam(inputs[AS], a, 'row', shape.M, ctx, 'a_scale');
  params[AZ] = inputs[AZ] && rowColParam(inputs[AZ], a, 'row', shape.M, ctx, 'a_zero_point');
  params[BS] = rowColParam(inputs[BS], b, 'col', shape.N, ctx, 'b_scale');
  params[BZ] = inputs[BZ] && rowColParam(inputs[BZ], b, 'col', shape.N, ctx, 'b_zero_point');
  params[YS] = rowColParam(inputs[YS], outMatrix, 'row', shape.M, ctx, 'y_scale');
  params[YZ] = yz && rowColParam(yz, outMatrix, 'row', shape.M, ctx, 'y_zero_point');
  return { shape, out: { dtype, dims: shape.outDims }, range: quantRange(dtype, ctx, 'y'), params };
}

function qlinearMatmulCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const p = plan(inputs.map((t) => t && metaOf(t)), ctx);
  const { M, N, K, batch } = p.shape;
  const v = inputs.map((t, i) => (t && i !== A && i !== B ? toNumbers(t) : undefined));
  const zp = (slot: number): { p: RowColParam; v: Float64Array } | undefined => {
    const pp = p.params[slot];
    const vv = v[slot];
    return pp && vv ? { p: pp, v: vv } : undefined;
  };
  const acc = intMatmulCpu(inputs[A]!, inputs[B]!, p.shape, zp(AZ), zp(BZ));
  const precision = precisionOf(inputs[AS]!.type);
  const [lo, hi] = p.range;
  const idx = new Array<number>(p.shape.batchDims.length).fill(0);
  const at = (slot: number, len: number, mat: number, i: number): number => paramAt(p.params[slot]!, v[slot], len, mat, i);
  for (let bi = 0; bi < batch; bi++) {
    let aOff = 0;
    let bOff = 0;
    for (let d = 0; d < idx.length; d++) {
      aOff += idx[d]! * p.shape.aBatchStrides[d]!;
      bOff += idx[d]! * p.shape.bBatchStrides[d]!;
    }
    const amat = aOff / Math.max(1, M * K);
    const bmat = bOff / Math.max(1, K * N);
    for (let m = 0; m < M; m++) {
      const as = at(AS, M, amat, m);
      const ys = at(YS, M, bi, m);
      const yz = p.params[YZ] ? at(YZ, M, bi, m) : 0;
      for (let n = 0; n < N; n++) {
        const o = (bi * M + m) * N + n;
        const mult = requantMultiplier(as, at(BS, N, bmat, n), ys, precision);
        acc[o] = clampTo(mulRoundHalfEven(acc[o]!, mult) + yz, lo, hi);
      }
    }
    for (let d = idx.length - 1; d >= 0 && ++idx[d]! === p.shape.batchDims[d]!; d--) idx[d] = 0;
  }
  return [fromNumbers(p.out.dtype, p.out.dims, acc)];
}

interface GpuParam {
  readonly v: TensorVar;
  readonly p: RowColParam;
}

/** WGSL read of a row/column parameter for matrix `mat` (the owner's matrix index) and index i. */
function paramExpr(x: GpuParam | undefined, mat: string, len: string, i: string): string {
  if (!x) return '0';
  return x.v.get(x.p.kind === 'scalar' ? '0u' : x.p.kind === 'vector' ? i : `${mat} * ${len} + ${i}`);
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'QLinearMatMul',
    inferOutputs: (inputs, ctx) => [plan(inputs, ctx).out],
    cpu: qlinearMatmulCpu,
    webgpu(inputs, outputs, ctx: GpuKernelContext) {
      const p = plan(inputs, ctx);
      const b = new ShaderBuilder(ctx.caps);
      const Av = b.input('A', inputs[A]!, A);
      const Bv = b.input('B', inputs[B]!, B);
      const param = (slot: number, name: string): GpuParam | undefined => {
        const meta = inputs[slot];
        const pp = p.params[slot];
        return meta && pp ? { v: b.input(name, gpuMeta(meta), slot), p: pp } : undefined;
      };
      const as = param(AS, 'AS');
      const az = param(AZ, 'AZ');
      const bs = param(BS, 'BS');
      const bz = param(BZ, 'BZ');
      const ys = param(YS, 'YS');
      const yz = param(YZ, 'YZ');
      const Y = b.output('Y', gpuMeta(outputs[0]!));
      const precision = precisionOf(inputs[AS]!.dtype);
      const div = wgslDivExact(b);
      const requant = wgslRequant(b);
      const program = intMatmulProgram({
        b, A: Av, B: Bv, bMeta: inputs[B]!, shape: p.shape, azp: az, bzp: bz,
        // the output's own matrix index is its batch index `bi`
        epilogue: (acc, m, n, o) => [
          `let ab = ${wgslRoundTo(b, precision, `${paramExpr(as, 'amat', 'M', m)} * ${paramExpr(bs, 'bmat', 'N', n)}`)};`,
          `let mult = ${wgslRoundTo(b, precision, `${div}(ab, ${paramExpr(ys, 'bi', 'M', m)})`)};`,
          `let r = ${requant}(${acc}, mult) + ${yz ? `i32(${paramExpr(yz, 'bi', 'M', m)})` : '0'};`,
          Y.set(o, `${Y.type}(clamp(r, ${p.range[0]}, ${p.range[1]}))`),
        ].join('\n'),
        label: `QLinearMatMul:${ctx.node}`,
      });
      return { kind: 'programs', programs: [program] };
    },
  },
];
