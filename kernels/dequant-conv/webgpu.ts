import type { QuantParamLayout } from '../common/quant.ts';
import type { ImplementationTable, MaybeMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
// Conv's WGSL generator; conv/ is being split by another change, which moves it (repoint on merge).
import { convWebgpu, type ConvWeightReader } from '../conv/webgpu-program.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslParamIndex } from '../webgpu/quant-wgsl.ts';
import { floatInputs, IS, IZ, layoutOf } from './op.ts';

/** Zero points that are all zero (symmetric weights) need no subtraction. */
const isOutputChannelScale = (l: QuantParamLayout): boolean => l.kind === 'tensor' || (l.kind === 'axis' && l.axis === 0);

function weightReader(inputs: readonly MaybeMeta[], layout: QuantParamLayout, zeroPointsAllZero: boolean): ConvWeightReader {
  return {
    declare(b) {
      const S = b.input('WS', inputs[IS]!, IS);
      const Z = inputs[IZ] && !zeroPointsAllZero ? b.input('WZ', inputs[IZ], IZ) : undefined;
      if (!Z && isOutputChannelScale(layout)) {
        return { load: (W, i) => `f32(${W.get(i)})`, channelScale: (co) => S.get(layout.kind === 'tensor' ? '0u' : co) };
      }
      const param = wgslParamIndex(b, layout, 'wq_param');
      return { load: (W, i) => `((f32(${W.get(i)})${Z ? ` - f32(${Z.get(`${param}(${i})`)})` : ''}) * ${S.get(`${param}(${i})`)})` };
    },
  };
}

/** Conv's own program, reading the packed weight through the reader above. */
const dequantConv: WebGpuKernel = (inputs, outputs, ctx) => {
  const layout = layoutOf(inputs, ctx);
  floatInputs(inputs, ctx);
  // whether the zero point is all zeros is a property of the constant, known to the pass
  const symmetric = ctx.attrs.int('kiln_dq_symmetric', 0) === 1 || !inputs[IZ];
  return convWebgpu(inputs, outputs, ctx, false, weightReader(inputs, layout, symmetric));
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'DequantConv')]: dequantConv };
