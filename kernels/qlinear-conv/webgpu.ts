import { product, sameDims } from '../common/shape.ts';
import type { ImplementationTable, MaybeMeta, MaybeTensor, TensorMeta } from '../contract.ts';
import { requantMultiplier } from '../common/quant.ts';
import { opKey } from '../contract.ts';
import { convProgram } from '../conv/webgpu-program.ts';
import { intConvProgram, intConvTile } from '../conv-integer/webgpu.ts';
import { intConvDwApplies, intConvDwRereads } from '../conv-integer/webgpu-dw.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { channelUniformSlots, QUANTIZE_LOAD_SITES, wgslDivExact, wgslQuantParam, wgslRequant } from '../webgpu/quant-wgsl.ts';
import { LOOKUP_EPILOGUE_ATTR } from '../qlinear-lookup/epilogue.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { exactInFloat32 } from './float-exact.ts';
import { RESIDUAL_SLOT } from './fused-io-attrs.ts';
import { fusedIoOf, integerInputMetas, type FusedIo } from './fused-io.ts';
import { LOAD_QUANTIZE_BUDGET, quantizeIntoTemp, quantizeParams, wgslFusedStore, wgslQuantizeLoad } from './fused-io-wgsl.ts';
import { B, inferQLinearConv, ORT_REQUANT_ATTR, qlinearConvPlan, W, WS, WZ, X, XS, XZ, YS, YZ } from './op.ts';

/**
 * ConvInteger's GPU core with the requantizing epilogue (exact division and requantization), and
 * the ops the WebGPU QDQ fusion folded in (fused-io.ts): a QuantizeLinear on x's load, a
 * QLinearLookup table and a DequantizeLinear in the store, each with its own kernel's expression.
 */
const qlinearConv: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  // a folded lookup table (wasm graphs only: qlinear-lookup/epilogue.ts) has no WGSL gather here: run the js kernel
  if (ctx.attrs.int(LOOKUP_EPILOGUE_ATTR, 0) === 1) return undefined;
  const io = fusedIoOf(ctx.attrs);
  const p = qlinearConvPlan(integerInputMetas(inputs, io, X, XZ, ctx), ctx);
  const out = inferQLinearConv(inputs, ctx);
  // A folded QuantizeLinear runs on x's load while that adds little work (squeeze-excite convs read
  // a GlobalAveragePool's C values); an x read many times (each element once per tile of output
  // channels and per tap) is quantized once into a scratch tensor by a program of its own instead,
  // and so is one the tile would load at more than QUANTIZE_LOAD_SITES places (each inlines the
  // exact rounding: the MobileNetV3-like model's first conv, 17 of them, took 1.2 s of SwiftShader JIT).
  const xInt = integerInputMetas(inputs, io, X, XZ, ctx)[X]!;
  const rereads = intConvDwApplies(p.geo) ? intConvDwRereads(p.geo, ctx.caps) : Math.ceil(p.geo.coutG / intConvTile(p.geo, ctx.caps).tm) * product(p.geo.kernel);
  const dear = io.quantizeX && product(inputs[X]!.dims) * rereads > LOAD_QUANTIZE_BUDGET;
  const planned: Planned = { io, p, out, xInt };
  const onLoad = lowerQLinearConv(inputs, outputs, ctx, planned, dear);
  return onLoad && !dear && onLoad.quantizeSites > QUANTIZE_LOAD_SITES ? lowerQLinearConv(inputs, outputs, ctx, planned, true)?.lowering : onLoad?.lowering;
};

/** What the lowering needs from the node's plan, whichever way x is quantized. */
interface Planned {
  readonly io: FusedIo;
  readonly p: ReturnType<typeof qlinearConvPlan>;
  readonly out: ReturnType<typeof inferQLinearConv>;
  readonly xInt: TensorMeta;
}

/**
 * The node's programs with a folded QuantizeLinear of x on its loads or, `quantizeFirst`, in a
 * quantize-x program of its own; `quantizeSites`: the loads that inline it.
 */
function lowerQLinearConv(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext, { io, p, out, xInt }: Planned, quantizeFirst: boolean): { lowering: GpuLowering; quantizeSites: number } | undefined {
  const b = new ShaderBuilder(ctx.caps);
  const Xv = quantizeFirst ? b.temp('X', xInt, 0, 'read') : b.input('X', inputs[X]!, X);
  const Wv = b.input('W', inputs[W]!, W);
  const opt = (slot: number, name: string) => {
    const meta = inputs[slot];
    return meta && b.input(name, gpuMeta(meta), slot);
  };
  const xs = opt(XS, 'XS')!;
  const xz = opt(XZ, 'XZ');
  const ws = opt(WS, 'WS')!;
  const wz = opt(WZ, 'WZ');
  const ys = opt(YS, 'YS')!;
  const yz = opt(YZ, 'YZ');
  const bias = opt(B, 'BIAS');
  const Y = b.output('Y', { ...outputs[0]!, dtype: out.dtype });
  // a folded QLinearAdd reads its other operand at the output offset: a broadcasting one runs js
  const residualMeta = inputs[RESIDUAL_SLOT];
  if (io.add && (!residualMeta || !sameDims(residualMeta.dims, p.out.dims))) return undefined;
  const residual = io.add ? b.input('R', residualMeta!, RESIDUAL_SLOT) : undefined;
  // multipliers of constant scales are computed here, once (the reference's own function): in WGSL each
  // invocation ran the exact division's 26-step loop for every channel of its tile
  const cout = p.geo.coutG * p.geo.group;
  const hostMult = constantMultipliers(ctx.constants ?? [], cout, p.wsPer);
  const multOf = hostMult ? b.uniformArray('req_mult', 'f32', hostMult) : undefined;
  const div = hostMult ? '' : wgslDivExact(b);
  // MLAS: f32(acc) * multiplier in f32, WGSL round() is half-to-even; else the exact product
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  const requant = mlas ? '' : wgslRequant(b);
  const requantExpr = (acc: string): string => (mlas ? `i32(round(f32(${acc}) * mult))` : `${requant}(${acc}, mult)`);
  const quantizeLoad = io.quantizeX && !quantizeFirst
    ? wgslQuantizeLoad(b, Xv, ...quantizeParams(b, [X, XS, XZ], ctx, (slot) => (slot === XS ? xs : xz!)), xInt.dtype, ctx)
    : undefined;
  let quantizeSites = 0;
  const loadX = quantizeLoad && ((off: string): string => (quantizeSites++, quantizeLoad(off)));
  // the hardware form (conv-integer/webgpu.ts); op tests run it with kernelTuning 'hardware'
  const dot4 = ctx.caps.packedDot4x8 === true && !ctx.caps.software ? { xSigned: xInt.dtype === 'int8', wSigned: inputs[W]!.dtype === 'int8' } : undefined;
  if (dot4) b.directive('requires packed_4x8_integer_dot_product;');
  const store = wgslFusedStore(b, io, p.yType, Y, residual);
  const yzv = `let yzv = ${yz ? `i32(${yz.get('0u')})` : '0'};`;
  // the multiplier's exact division is a 26-step loop: once per channel of the tile
  const perChannel = (co: string): string => (multOf ? `${multOf}(${co})` : `${div}(${xs.get('0u')} * ${ws.get(p.wsPer ? co : '0u')}, ${ys.get('0u')})`);
  const epilogue = (acc: string, o: string, chv: string, chb: string, fast?: boolean): string => [
    `let mult = ${chv};`,
    `let r = ${requantExpr(bias ? `${acc} + ${chb}` : acc)} + yzv;`,
    `let yq = clamp(r, ${p.range[0]}, ${p.range[1]});`,
    ...store(o, undefined, fast),
  ].join('\n');
  const zeroPoints = dot4 ? undefined : exactInFloat32(inputs, ctx.constants ?? [], xInt.dtype, p.geo.coutG * p.geo.group, p.wzPer);
  const xzf = zeroPoints && b.uniform('xzf', 'f32', zeroPoints.x);
  const wzf = zeroPoints && zeroPoints.w !== 0 ? b.uniform('wzf', 'f32', zeroPoints.w) : undefined;
  const yzf = zeroPoints && mlas ? (yz ? wgslQuantParam(b, 'yzf', ctx.constants?.[YZ], () => yz)('0u') : '0.0') : '';
  const convStore = (acc: string, o: string, fast?: boolean): string => (mlas
    ? [`let yq = i32(clamp(round((${acc}${bias ? ' + chbf' : ''}) * chv) + ${yzf}, ${p.range[0]}.0, ${p.range[1]}.0));`, ...store(o, undefined, fast)].join('\n')
    : epilogue(`i32(${acc})`, o, 'chv', 'chb', fast));
  const program = zeroPoints
    // Integer-valued floats through the float Conv's tuned forms: every product and partial sum is an
    // integer below 2^24, so the f32 accumulator holds the i32 sum exactly and the epilogue is the same
    ? convProgram(b, p.geo, {
      X: Xv, W: Wv, Y,
      loadX: (off) => `(f32(${loadX ? loadX(off) : Xv.get(off)}) - ${xzf})`,
      loadW: (i) => (wzf ? `(f32(${Wv.get(i)}) - ${wzf})` : `f32(${Wv.get(i)})`),
      // the f32 epilogue (mlas) reads the zero point as yzf, not yzv
      channelLets: (co) => [...(mlas ? [] : [yzv]), `let chv = ${perChannel(co)};`, ...(bias ? [mlas ? `let chbf = f32(${bias.get(co)});` : `let chb = ${bias.get(co)};`] : [])],
      // MLAS's f32(acc + bias) * multiplier is the f32 accumulator plus the bias as it stands (both
      // integers whose sum the bound keeps below 2^24): rounded, offset and clamped in f32, one
      // conversion at the end (an i32 round trip per output cost ~1 ms of a 1x1 64->64 conv's 11)
      store: (acc, o) => convStore(acc, o),
      // a folded QLinearAdd's exact division only for the tiles whose hardware quotient may round wrong
      fastStore: io.add ? (acc, o) => convStore(acc, o, true) : undefined,
      label: `QLinearConv:${ctx.node}`,
    })
    : intConvProgram({
      b, X: Xv, W: Wv, Y, geo: p.geo,
      xzp: xz ? `i32(${xz.get('0u')})` : '0',
      wzp: (co) => (wz ? `i32(${wz.get(p.wzPer ? co : '0u')})` : '0'),
      loadX,
      dot4,
      perChannel,
      channelBias: bias && ((co) => bias.get(co)),
      epilogueLets: [yzv],
      // MLAS's requantization is a few instructions: straight-line stores, on hardware adapters only. On
      // SwiftShader the unrolled 8x16 tile made the int8 MobileNetV3-like model's pipelines compile in
      // 37-38 s instead of 18-20 s and its runs 31-33 ms instead of 20-21 ms (docs/decisions.md, int8-epilogue)
      unrollEpilogue: mlas && !ctx.caps.software,
      epilogue: (acc, _co, o, chv, chb) => epilogue(acc, o, chv, chb),
      label: `QLinearConv:${ctx.node}`,
    });
  if (!quantizeFirst) return { lowering: { kind: 'programs', programs: [program] }, quantizeSites };
  return { lowering: { kind: 'programs', programs: [quantizeIntoTemp(inputs, [X, XS, XZ], xInt, ctx), program], temps: [xInt] }, quantizeSites };
}

/** Largest channel count whose multipliers go into the uniforms (16 KB); above, the shader computes them. */
const MAX_HOST_MULTIPLIERS = 4096;

/**
 * The requantization multipliers x_scale * w_scale / y_scale per output channel when the three scales
 * are float32 constants, padded to a size class (channelUniformSlots: the uniform block's size is part
 * of the WGSL, so few sizes keep the pipelines few).
 */
function constantMultipliers(constants: readonly MaybeTensor[], cout: number, wsPer: boolean): number[] | undefined {
  const [xs, ws, ys] = [constants[XS], constants[WS], constants[YS]];
  if (xs?.type !== 'float32' || ws?.type !== 'float32' || ys?.type !== 'float32' || cout > MAX_HOST_MULTIPLIERS) return undefined;
  const out = new Array<number>(channelUniformSlots(cout)).fill(0);
  for (let co = 0; co < cout; co++) out[co] = requantMultiplier(Number(xs.data[0]), Number(ws.data[wsPer ? co : 0]), Number(ys.data[0]), 'float32');
  return out;
}

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
