import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { causalConvOutputs, causalConvPlan, definitions } from './op.ts';

/**
 * float32 straight from the typed arrays, without building the padded row: tap j of step t reads
 * the carried state while t + j < K - 1, the input after. Other types run the reference.
 */
const causalConv: CpuKernel = (inputs, ctx): AnyTensor[] => {
  if (inputs.some((t) => t && t.type !== 'float32')) return definitions[0]!.reference(inputs, ctx);
  const p = causalConvPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch: B, channels: C, length: L, kernel: K } = p;
  const x = inputs[0]!.data as Float32Array;
  const w = inputs[1]!.data as Float32Array;
  const bias = inputs[2]?.data as Float32Array | undefined;
  const past = inputs[3]?.data as Float32Array | undefined;
  const y = new Float32Array(B * C * L);
  const present = new Float32Array(B * C * (K - 1));
  const S = K - 1;
  for (let row = 0; row < B * C; row++) {
    const c = row % C;
    const xs = row * L;
    const ps = row * S;
    const ws = c * K;
    for (let t = 0; t < L; t++) {
      let acc = bias ? bias[c]! : 0;
      // padded[t + j] is past[t + j] for t + j < S, else x[t + j - S]
      const split = Math.max(0, Math.min(K, S - t));
      if (past) for (let j = 0; j < split; j++) acc += w[ws + j]! * past[ps + t + j]!;
      for (let j = split; j < K; j++) acc += w[ws + j]! * x[xs + t + j - S]!;
      y[xs + t] = p.silu ? acc / (1 + Math.exp(-acc)) : acc;
    }
    for (let s = 0; s < S; s++) {
      const at = L + s; // position in the padded row
      present[ps + s] = at < S ? (past ? past[ps + at]! : 0) : x[xs + at - S]!;
    }
  }
  return [new Tensor('float32', y, p.out.dims), new Tensor('float32', present, p.present.dims)].slice(0, causalConvOutputs(p, ctx).length);
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'CausalConvWithState')]: causalConv };
