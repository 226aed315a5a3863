import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { FUSED_NORM_PLANS, fusedNormReference, gammaIsSuffix } from './op.ts';

/**
 * float32 straight from the typed arrays (the reference converts every input to float64 and back):
 * one pass for the sum and its mean, one for the squared deviations, one to write y; statistics in
 * float64. Other types, and a gamma that broadcasts along an inner axis, run the reference.
 */
const kernel = (opType: string): CpuKernel => (inputs, ctx): AnyTensor[] => {
  const plan = FUSED_NORM_PLANS[opType]!(inputs.map((t) => t && metaOf(t)), ctx);
  if (inputs.some((t) => t && t.type !== 'float32') || !gammaIsSuffix(plan)) return fusedNormReference(inputs, plan);
  const { rows, len, epsilon, simplified } = plan;
  const f32 = (slot: number | undefined): Float32Array | undefined => (slot === undefined ? undefined : (inputs[slot]!.data as Float32Array));
  const x = f32(0)!;
  const skip = f32(plan.skip?.slot);
  const skipSize = plan.skip?.size ?? 1;
  const bias = f32(plan.bias);
  const gamma = f32(plan.gamma.slot)!;
  const gSize = gamma.length;
  const beta = f32(plan.beta);
  const sum = new Float32Array(x.length);
  const y = new Float32Array(x.length);
  const means = new Float32Array(rows);
  const invs = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * len;
    const skipBase = base % skipSize;
    let s = 0;
    for (let j = 0; j < len; j++) {
      let v = x[base + j]!;
      if (skip) v += skip[skipBase + j]!;
      if (bias) v += bias[j]!;
      sum[base + j] = v;
      s += v;
    }
    const mean = s / len;
    const center = simplified ? 0 : mean;
    let q = 0;
    for (let j = 0; j < len; j++) {
      const d = sum[base + j]! - center;
      q += d * d;
    }
    const inv = 1 / Math.sqrt(q / len + epsilon);
    means[r] = mean;
    invs[r] = inv;
    if (beta) for (let j = 0; j < len; j++) y[base + j] = (sum[base + j]! - center) * inv * gamma[j % gSize]! + beta[j]!;
    else for (let j = 0; j < len; j++) y[base + j] = (sum[base + j]! - center) * inv * gamma[j % gSize]!;
  }
  return plan.outs.map((m, i) => new Tensor('float32', i === 0 ? y : i === plan.meanOut ? means : i === plan.invOut ? invs : sum, m.dims));
};

export const js: ImplementationTable<CpuKernel> = {
  [opKey('com.microsoft', 'SkipLayerNormalization')]: kernel('SkipLayerNormalization'),
  [opKey('com.microsoft', 'SkipSimplifiedLayerNormalization')]: kernel('SkipSimplifiedLayerNormalization'),
  [opKey('', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('com.microsoft', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('', 'RMSNormalization')]: kernel('RMSNormalization'),
};
