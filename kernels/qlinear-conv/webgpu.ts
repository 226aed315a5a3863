import { quantRange } from '../common/quant.ts';
import { product } from '../common/shape.ts';
import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { intConvProgram, intConvTile } from '../conv-integer/webgpu.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { wgslDivExact, wgslQuantRound, wgslRequant } from '../webgpu/quant-wgsl.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { fusedIoOf, integerInputMetas, lowestOf } from './fused-io.ts';
import { B, inferQLinearConv, ORT_REQUANT_ATTR, qlinearConvPlan, W, WS, WZ, X, XS, XZ, YS, YZ } from './op.ts';

/**
 * ConvInteger's GPU core with the requantizing epilogue (exact division and requantization), and
 * the ops the WebGPU QDQ fusion folded in (fused-io.ts): a QuantizeLinear on x's load, a
 * QLinearLookup table and a DequantizeLinear in the store, each with its own kernel's expression.
 */
const qlinearConv: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  const io = fusedIoOf(ctx.attrs);
  const p = qlinearConvPlan(integerInputMetas(inputs, io, X, XZ, ctx), ctx);
  const out = inferQLinearConv(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  // A folded QuantizeLinear runs on x's load while that adds little work (squeeze-excite convs read
  // a GlobalAveragePool's C values); an x read many times (each element once per tile of output
  // channels and per tap) is quantized once into a scratch tensor by a program of its own instead.
  const xInt = integerInputMetas(inputs, io, X, XZ, ctx)[X]!;
  const rereads = Math.ceil(p.geo.coutG / intConvTile(p.geo, ctx.caps).tm) * product(p.geo.kernel);
  const quantizeFirst = io.quantizeX && product(inputs[X]!.dims) * rereads > LOAD_QUANTIZE_BUDGET;
  const Xv = quantizeFirst ? b.temp('X', xInt, 0) : b.input('X', inputs[X]!, X);
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
  const div = wgslDivExact(b);
  // MLAS: f32(acc) * multiplier in f32, WGSL round() is half-to-even; else the exact product
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  const requant = mlas ? '' : wgslRequant(b);
  const requantExpr = (acc: string): string => (mlas ? `i32(round(f32(${acc}) * mult))` : `${requant}(${acc}, mult)`);
  // QuantizeLinear's WGSL (quantize-linear/webgpu.ts) on each element read
  let loadX: ((off: string) => string) | undefined;
  if (io.quantizeX && !quantizeFirst) {
    const [lo, hi] = quantRange(inputs[XZ]!.dtype, ctx, 'x');
    const qround = wgslQuantRound(b, 'float32');
    loadX = (off) => `i32(clamp(${qround}(${Xv.get(off)}, ${xs.get('0u')}) + f32(${xz!.get('0u')}), ${lo}.0, ${hi}.0))`;
  }
  // the hardware form (conv-integer/webgpu.ts); op tests run it with kernelTuning 'hardware'
  const dot4 = ctx.caps.packedDot4x8 === true && !ctx.caps.software ? { xSigned: xInt.dtype === 'int8', wSigned: inputs[W]!.dtype === 'int8' } : undefined;
  if (dot4) b.directive('requires packed_4x8_integer_dot_product;');
  const store: string[] = [];
  let value = 'yq';
  let valueType = p.out.dtype;
  if (io.lookup) {
    // the table as a uniform array (shared pipelines): QLinearLookup's table[y - lowest]
    const float = io.lookup.type === 'float32';
    const table = b.uniformArray('lut', float ? 'f32' : 'i32', Array.from(io.lookup.data as ArrayLike<number>));
    store.push(`let yl = ${table}(u32(${value} - (${lowestOf(p.out.dtype)})));`);
    value = 'yl';
    valueType = io.lookup.type;
  }
  if (io.dequantize) {
    // DequantizeLinear's WGSL: f32(x - zero point) * scale
    const s = b.uniform('dq_scale', 'f32', Number(io.dequantize.scale.data[0]));
    const z = b.uniform('dq_zero', 'i32', io.dequantize.zeroPoint ? Number(io.dequantize.zeroPoint.data[0]) : 0);
    store.push(`let yd = f32(${value} - ${z}) * ${s};`);
    value = 'yd';
    valueType = 'float32';
  }
  const finalValue = valueType === 'float32' ? value : `${Y.type}(${value})`;
  const program = intConvProgram({
    b, X: Xv, W: Wv, Y, geo: p.geo,
    xzp: xz ? `i32(${xz.get('0u')})` : '0',
    wzp: (co) => (wz ? `i32(${wz.get(p.wzPer ? co : '0u')})` : '0'),
    loadX,
    dot4,
    // the multiplier's exact division is a 26-step loop: once per channel of the tile
    perChannel: (co) => `${div}(${xs.get('0u')} * ${ws.get(p.wsPer ? co : '0u')}, ${ys.get('0u')})`,
    epilogue: (acc, co, o, chv) => [
      `let mult = ${chv};`,
      `let r = ${requantExpr(bias ? `${acc} + ${bias.get(co)}` : acc)} + ${yz ? `i32(${yz.get('0u')})` : '0'};`,
      `let yq = clamp(r, ${p.range[0]}, ${p.range[1]});`,
      ...store,
      Y.set(o, finalValue),
    ].join('\n'),
    label: `QLinearConv:${ctx.node}`,
  });
  if (!quantizeFirst) return { kind: 'programs', programs: [program] };
  return { kind: 'programs', programs: [quantizeProgram(inputs, xInt, ctx), program], temps: [xInt] };
};

/** Work (x elements times rereads) under which the folded QuantizeLinear runs on every load. */
const LOAD_QUANTIZE_BUDGET = 1 << 16;

/** QuantizeLinear's WGSL (quantize-linear/webgpu.ts, per-tensor float32 parameters): x into scratch tensor 0. */
function quantizeProgram(inputs: readonly MaybeMeta[], xInt: TensorMeta, ctx: GpuKernelContext): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const Xf = b.input('X', inputs[X]!, X);
  const S = b.input('S', gpuMeta(inputs[XS]!), XS);
  const Z = b.input('Z', gpuMeta(inputs[XZ]!), XZ);
  const T = b.temp('T', xInt, 0);
  const count = product(xInt.dims);
  const n = b.uniform('n', 'u32', count);
  const [lo, hi] = quantRange(xInt.dtype, ctx, 'x');
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let r = ${wgslQuantRound(b, 'float32')}(${Xf.get('global_idx')}, ${S.get('0u')});`,
    `  ${T.set('global_idx', `${T.type}(clamp(r + f32(${Z.get('0u')}), ${lo}.0, ${hi}.0))`)}`,
  ].join('\n');
  return b.build({ label: `QLinearConv:${ctx.node}:quantize-x`, body, totalInvocations: count });
}

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
