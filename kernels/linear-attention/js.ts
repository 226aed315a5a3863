import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { definitions, linearAttentionOutputs, linearAttentionPlan } from './op.ts';

/**
 * float32 from the typed arrays, one state column at a time: column j of a KV head's state is
 * touched only by v[j] and the outputs' j-th values, so each (batch, KV head, j) runs its own
 * recurrence over t with the column (d_k values) in a small scratch array, then lands in
 * present_state. This is the WebGPU kernel's decomposition. Other types run the reference.
 */
const linearAttention: CpuKernel = (inputs, ctx): AnyTensor[] => {
  if (inputs.some((t) => t && t.type !== 'float32')) return definitions[0]!.reference(inputs, ctx);
  const p = linearAttentionPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch: B, seq: T, qHeads: Hq, kvHeads: Hkv, dk, dv, decayWidth, betaHeads } = p;
  const group = Hq / Hkv;
  const [q, k, v] = [inputs[0]!.data as Float32Array, inputs[1]!.data as Float32Array, inputs[2]!.data as Float32Array];
  const past = inputs[3]?.data as Float32Array | undefined;
  const decay = p.gated ? (inputs[4]!.data as Float32Array) : undefined;
  const beta = p.delta ? (inputs[5]!.data as Float32Array) : undefined;
  const out = new Float32Array(B * T * Hq * dv);
  const present = new Float32Array(B * Hkv * dk * dv);
  const col = new Float64Array(dk);
  const gates = new Float64Array(dk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hkv; h++) {
      const stateBase = (b * Hkv + h) * dk * dv;
      for (let j = 0; j < dv; j++) {
        for (let i = 0; i < dk; i++) col[i] = past ? past[stateBase + i * dv + j]! : 0;
        for (let t = 0; t < T; t++) {
          const bt = b * T + t;
          const kBase = (bt * Hkv + h) * dk;
          if (decay) {
            const dBase = (bt * Hkv + h) * decayWidth;
            for (let i = 0; i < dk; i++) gates[i] = Math.exp(decay[dBase + (decayWidth === 1 ? 0 : i)]!);
            for (let i = 0; i < dk; i++) col[i]! *= gates[i]!;
          }
          let write = v[(bt * Hkv + h) * dv + j]!;
          if (beta) {
            let retrieved = 0;
            for (let i = 0; i < dk; i++) retrieved += col[i]! * k[kBase + i]!;
            write = beta[bt * betaHeads + (betaHeads === 1 ? 0 : h)]! * (write - retrieved);
          }
          for (let i = 0; i < dk; i++) col[i]! += k[kBase + i]! * write;
          for (let g = 0; g < group; g++) {
            const qh = h * group + g;
            const qBase = (bt * Hq + qh) * dk;
            let acc = 0;
            for (let i = 0; i < dk; i++) acc += q[qBase + i]! * col[i]!;
            out[(bt * Hq + qh) * dv + j] = p.scale * acc;
          }
        }
        for (let i = 0; i < dk; i++) present[stateBase + i * dv + j] = col[i]!;
      }
    }
  }
  return [new Tensor('float32', out, p.out.dims), new Tensor('float32', present, p.present.dims)].slice(0, linearAttentionOutputs(p, ctx).length);
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'LinearAttention')]: linearAttention };
