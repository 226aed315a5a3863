import { precisionOf, requantMultiplier } from '../common/quant.ts';
import type { ImplementationTable, MaybeTensor } from '../contract.ts';
import { opKey } from '../contract.ts';
import { gpuMeta, intMatmulProgram } from '../matmul-integer/webgpu.ts';
import type { RowColParam } from '../matmul-integer/op.ts';
import type { GpuKernelContext, WebGpuKernel } from '../webgpu/contract.ts';
import { channelUniformSlots, wgslDivExact, wgslRequant, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { LOOKUP_EPILOGUE_ATTR } from '../qlinear-lookup/epilogue.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { A, AS, AZ, B, BS, BZ, inferQLinearMatmul, ORT_REQUANT_ATTR, qlinearMatmulPlan, YS, YZ } from './op.ts';
import { product } from '../common/shape.ts';
import { fusedIoOf, integerInputMetas } from '../qlinear-conv/fused-io.ts';
import { MAX_DQ_BIAS } from '../qlinear-conv/fused-io-attrs.ts';
import { LOAD_QUANTIZE_BUDGET, quantizeIntoTemp, quantizeParams, wgslFusedStore, wgslQuantizeLoad } from '../qlinear-conv/fused-io-wgsl.ts';

interface GpuParam {
  readonly v: TensorVar;
  readonly p: RowColParam;
}

/** WGSL read of a row/column parameter for matrix `mat` (the owner's matrix index) and index i. */
function paramExpr(x: GpuParam | undefined, mat: string, len: string, i: string): string {
  if (!x) return '0';
  return x.v.get(x.p.kind === 'scalar' ? '0u' : x.p.kind === 'vector' ? i : `${mat} * ${len} + ${i}`);
}

/** MatMulInteger's GPU core with the requantizing epilogue, in i32 and exact f32 steps. */
const qlinearMatmul: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  // a folded lookup table (wasm graphs only: qlinear-lookup/epilogue.ts) has no WGSL gather here: run the js kernel
  if (ctx.attrs.int(LOOKUP_EPILOGUE_ATTR, 0) === 1) return undefined;
  const io = fusedIoOf(ctx.attrs);
  // a folded bias lives in the uniforms (the pass folds none wider; a hand-written node runs js)
  if (io.bias && io.bias.size > MAX_DQ_BIAS) return undefined;
  const aInt = integerInputMetas(inputs, io, A, AZ, ctx)[A]!;
  const p = qlinearMatmulPlan(integerInputMetas(inputs, io, A, AZ, ctx), ctx);
  const out = inferQLinearMatmul(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  // a folded QuantizeLinear (qlinear-conv/fused-io.ts): on A's load while A is read few times
  // (once per tile of 4 columns), else once into a scratch tensor by a program of its own
  const quantizeFirst = io.quantizeX && product(inputs[A]!.dims) * Math.ceil(p.shape.N / 4) > LOAD_QUANTIZE_BUDGET;
  const Av = quantizeFirst ? b.temp('A', aInt, 0) : b.input('A', inputs[A]!, A);
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
  const Y = b.output('Y', gpuMeta({ ...outputs[0]!, dtype: out.dtype }));
  const store = wgslFusedStore(b, io, p.out.dtype, Y);
  const loadA = io.quantizeX && !quantizeFirst
    ? wgslQuantizeLoad(b, Av, ...quantizeParams(b, [A, AS, AZ], ctx, (slot) => (slot === AS ? as! : az!).v), aInt.dtype, ctx)
    : undefined;
  const precision = precisionOf(inputs[AS]!.dtype);
  // multipliers of constant scales, per column, computed here once (the reference's own function):
  // in WGSL every output element ran the exact division's 26-step loop
  const hostMult = constantColumnMultipliers(ctx.constants ?? [], as?.p, bs?.p, ys?.p, p.shape.N);
  const multOf = hostMult ? b.uniformArray('req_mult', 'f32', hostMult) : undefined;
  const div = multOf ? '' : wgslDivExact(b);
  // MLAS: f32(acc) * multiplier in f32, WGSL round() is half-to-even; else the exact product
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  const requant = mlas ? '' : wgslRequant(b);
  const requantExpr = (acc: string): string => (mlas ? `i32(round(f32(${acc}) * mult))` : `${requant}(${acc}, mult)`);
  const program = intMatmulProgram({
    b, A: Av, B: Bv, bMeta: inputs[B]!, shape: p.shape, azp: az, bzp: bz, loadA,
    // the output's own matrix index is its batch index `bi`
    epilogue: (acc, m, n, o) => [
      ...(multOf
        ? [`let mult = ${multOf}(${n});`]
        : [
            `let ab = ${wgslRoundTo(b, precision, `${paramExpr(as, 'amat', 'M', m)} * ${paramExpr(bs, 'bmat', 'N', n)}`)};`,
            `let mult = ${wgslRoundTo(b, precision, `${div}(ab, ${paramExpr(ys, 'bi', 'M', m)})`)};`,
          ]),
      `let r = ${requantExpr(acc)} + ${yz ? `i32(${paramExpr(yz, 'bi', 'M', m)})` : '0'};`,
      `let yq = clamp(r, ${p.range[0]}, ${p.range[1]});`,
      ...store(o, n),
    ].join('\n'),
    label: `QLinearMatMul:${ctx.node}`,
  });
  if (!quantizeFirst) return { kind: 'programs', programs: [program] };
  return { kind: 'programs', programs: [quantizeIntoTemp(inputs, [A, AS, AZ], aInt, ctx), program], temps: [aInt] };
};

/** Largest column count whose multipliers go into the uniforms (16 KB); above, the shader computes them. */
const MAX_HOST_MULTIPLIERS = 4096;

/**
 * The requantization multipliers a_scale * b_scale[n] / y_scale per output column when the three
 * scales are float32 constants, a_scale and y_scale per tensor and b_scale per tensor or per column,
 * padded to a size class (channelUniformSlots: the uniform block's size is part of the WGSL, so few sizes keep the
 * pipelines few). Otherwise (per-row or per-matrix scales, other precisions) undefined.
 */
function constantColumnMultipliers(constants: readonly MaybeTensor[], asP: RowColParam | undefined, bsP: RowColParam | undefined, ysP: RowColParam | undefined, n: number): number[] | undefined {
  const [as, bs, ys] = [constants[AS], constants[BS], constants[YS]];
  if (as?.type !== 'float32' || bs?.type !== 'float32' || ys?.type !== 'float32' || n > MAX_HOST_MULTIPLIERS) return undefined;
  if (asP?.kind !== 'scalar' || ysP?.kind !== 'scalar' || (bsP?.kind !== 'scalar' && bsP?.kind !== 'vector')) return undefined;
  const out = new Array<number>(channelUniformSlots(n)).fill(0);
  for (let j = 0; j < n; j++) out[j] = requantMultiplier(Number(as.data[0]), Number(bs.data[bsP.kind === 'vector' ? j : 0]), Number(ys.data[0]), 'float32');
  return out;
}

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'QLinearMatMul')]: qlinearMatmul };
