import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { ConvGeometry } from '../common/conv-attributes.ts';
import { clampTo, EIGHT_BIT_TYPES, mulRoundHalfEven, quantRange, requantMultiplier } from '../common/quant.ts';
import { wgslDivExact, wgslRequant } from '../webgpu/quant-wgsl.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { intConvCpu, intConvGeometry, intConvProgram, perChannel, requireScalar } from '../conv-integer/legacy.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext } from '../webgpu/contract.ts';

/**
 * QLinearConv: the exact int32 conv of conv-integer.ts plus the int32 bias, requantized with
 * multiplier x_scale * w_scale[co] / y_scale (float32 steps, as the ONNX reference) and rounded
 * exactly, then offset by y_zero_point and saturated. w_scale / w_zero_point may be per output channel.
 */

// inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
const X = 0, XS = 1, XZ = 2, W = 3, WS = 4, WZ = 5, YS = 6, YZ = 7, B = 8;

interface Plan {
  readonly geo: ConvGeometry;
  readonly out: TensorMeta;
  readonly range: readonly [number, number];
  readonly wsPer: boolean;
  readonly wzPer: boolean;
}

function plan(inputs: readonly MaybeMeta[], ctx: KernelContext): Plan {
  const x = requireInput(inputs, X, ctx);
  const w = requireInput(inputs, W, ctx);
  const { geo, dims } = intConvGeometry(x, w, ctx);
  const cout = geo.coutG * geo.group;
  for (const [slot, name] of [[XS, 'x_scale'], [WS, 'w_scale'], [YS, 'y_scale']] as const) requireType(requireInput(inputs, slot, ctx), ['float32'], ctx, name);
  const xz = inputs[XZ];
  const wz = inputs[WZ];
  const yz = inputs[YZ];
  if (xz && xz.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': x_zero_point type ${xz.dtype} differs from x type ${x.dtype}`);
  if (wz && wz.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': w_zero_point type ${wz.dtype} differs from w type ${w.dtype}`);
  if (yz) requireType(yz, EIGHT_BIT_TYPES, ctx, 'y_zero_point');
  requireScalar(inputs[XS], ctx, 'x_scale');
  requireScalar(xz, ctx, 'x_zero_point');
  requireScalar(inputs[YS], ctx, 'y_scale');
  requireScalar(yz, ctx, 'y_zero_point');
  const bias = inputs[B];
  if (bias) {
    requireType(bias, ['int32'], ctx, 'B');
    if (bias.dims.length !== 1 || bias.dims[0] !== cout) fail('INVALID_GRAPH', `node '${ctx.node}': B has shape [${bias.dims.join(', ')}], expected [${cout}]`);
  }
  const dtype = yz?.dtype ?? x.dtype;
  return {
    geo,
    out: { dtype, dims },
    range: quantRange(dtype, ctx, 'y'),
    wsPer: perChannel(inputs[WS], cout, ctx, 'w_scale'),
    wzPer: perChannel(wz, cout, ctx, 'w_zero_point'),
  };
}

function qlinearConvCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const p = plan(inputs.map((t) => t && metaOf(t)), ctx);
  const g = p.geo;
  const num = (slot: number): Float64Array | undefined => {
    const t = inputs[slot];
    return t && toNumbers(t);
  };
  const [xs, ws, ys] = [num(XS)!, num(WS)!, num(YS)!];
  const xz = num(XZ)?.[0] ?? 0;
  const yz = num(YZ)?.[0] ?? 0;
  const acc = intConvCpu(inputs[X]!, inputs[W]!, g, xz, num(WZ), num(B));
  const cout = g.coutG * g.group;
  const S = acc.length / Math.max(1, g.batch * cout);
  const [lo, hi] = p.range;
  for (let co = 0; co < cout; co++) {
    const m = requantMultiplier(xs[0]!, ws[p.wsPer ? co : 0]!, ys[0]!, 'float32');
    for (let n = 0; n < g.batch; n++) {
      const base = (n * cout + co) * S;
      for (let i = base; i < base + S; i++) acc[i] = clampTo(mulRoundHalfEven(acc[i]!, m) + yz, lo, hi);
    }
  }
  return [fromNumbers(p.out.dtype, p.out.dims, acc)];
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'QLinearConv',
    inferOutputs: (inputs, ctx) => [plan(inputs, ctx).out],
    cpu: qlinearConvCpu,
    webgpu(inputs, outputs, ctx: GpuKernelContext) {
      const p = plan(inputs, ctx);
      const b = new ShaderBuilder(ctx.caps);
      const Xv = b.input('X', inputs[X]!, X);
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
      const Y = b.output('Y', outputs[0]!);
      const div = wgslDivExact(b);
      const requant = wgslRequant(b);
      const program = intConvProgram({
        b, X: Xv, W: Wv, Y, geo: p.geo,
        xzp: xz ? `i32(${xz.get('0u')})` : '0',
        wzp: (co) => (wz ? `i32(${wz.get(p.wzPer ? co : '0u')})` : '0'),
        epilogue: (acc, co, o) => [
          `let mult = ${div}(${xs.get('0u')} * ${ws.get(p.wsPer ? co : '0u')}, ${ys.get('0u')});`,
          `let r = ${requant}(${bias ? `${acc} + ${bias.get(co)}` : acc}, mult) + ${yz ? `i32(${yz.get('0u')})` : '0'};`,
          Y.set(o, `${Y.type}(clamp(r, ${p.range[0]}, ${p.range[1]}))`),
        ].join('\n'),
        label: `QLinearConv:${ctx.node}`,
      });
      return { kind: 'programs', programs: [program] };
    },
  },
];
