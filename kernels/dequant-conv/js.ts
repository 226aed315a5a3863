import type { AnyTensor } from '../../core/tensor.ts';
import type { QuantParamLayout } from '../common/quant.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
// Conv's fast CPU path; conv/ is being split by another change, which moves it (repoint on merge).
import { convCpu } from '../conv/js.ts';
import { dequantizeWeight, floatInputs, IB, IS, IW, IX, IZ, layoutOf } from './op.ts';

const cache = new WeakMap<AnyTensor, { scale: AnyTensor; zp: AnyTensor | undefined; w: AnyTensor }>();

/** The dequantized weight, cached per constant: constants keep their tensor objects across runs. */
function cachedWeight(q: AnyTensor, scale: AnyTensor, zp: AnyTensor | undefined, layout: QuantParamLayout): AnyTensor {
  const hit = cache.get(q);
  if (hit && hit.scale === scale && hit.zp === zp) return hit.w;
  const w = dequantizeWeight(q, scale, zp, layout);
  cache.set(q, { scale, zp, w });
  return w;
}

/** The weight dequantized once, then Conv's fast CPU path. */
const dequantConv: CpuKernel = (inputs, ctx) => {
  const metas = inputs.map((t) => t && metaOf(t));
  const layout = layoutOf(metas, ctx);
  floatInputs(metas, ctx);
  const w = cachedWeight(inputs[IW]!, inputs[IS]!, inputs[IZ], layout);
  return convCpu([inputs[IX], w, inputs[IB]], ctx, false);
};

export const js: ImplementationTable<CpuKernel> = { [opKey('kiln', 'DequantConv')]: dequantConv };
