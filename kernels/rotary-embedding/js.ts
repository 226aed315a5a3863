import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { fail } from '../../core/errors.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import { contribRotaryPlan, definitions, onnxRotaryPlan, type RotaryPlan } from './op.ts';

/** float32 straight from the typed arrays: one cache row per token, every head turned by it; other types run the reference. */
const kernel = (planOf: (inputs: readonly MaybeMeta[], ctx: KernelContext) => RotaryPlan, domain: string): CpuKernel => {
  const reference = definitions.find((d) => (d.domain ?? '') === domain)!.reference;
  return (inputs, ctx): AnyTensor[] => {
    const p = planOf(inputs.map((t) => t && metaOf(t)), ctx);
    if (inputs[0]!.type !== 'float32' || inputs[p.cosSlot]!.type !== 'float32' || inputs[p.sinSlot]!.type !== 'float32') return reference(inputs, ctx);
    const x = inputs[0]!.data as Float32Array;
    const cos = inputs[p.cosSlot]!.data as Float32Array;
    const sin = inputs[p.sinSlot]!.data as Float32Array;
    const pos = p.positionSlot !== undefined ? toNumbers(inputs[p.positionSlot]!) : undefined;
    const y = Float32Array.from(x);
    const half = p.rotaryDim / 2;
    const [o1, o2] = p.interleaved ? [2, 1] : [1, half]; // first of pair i at o1 * i, partner o2 further
    for (let b = 0; b < p.batch; b++) {
      for (let s = 0; s < p.seq; s++) {
        const row = p.rowKind === 'offset' ? pos![0]! + s : p.rowKind === 'ids' ? pos![b * p.seq + s]! : b * p.seq + s;
        if (!(row >= 0 && row < p.cacheRows)) fail('INVALID_ARGUMENT', `node '${ctx.node}': position ${row} is outside the cos/sin caches (${p.cacheRows} rows)`);
        const cBase = row * p.cacheWidth;
        for (let n = 0; n < p.heads; n++) {
          const base = b * p.strideB + s * p.strideS + n * p.strideN;
          for (let i = 0; i < half; i++) {
            const c = cos[cBase + i]!;
            const sn = sin[cBase + i]!;
            const i1 = base + o1 * i;
            const x1 = x[i1]!;
            const x2 = x[i1 + o2]!;
            y[i1] = x1 * c - x2 * sn;
            y[i1 + o2] = x2 * c + x1 * sn;
          }
        }
      }
    }
    return [new Tensor('float32', y, p.out.dims)];
  };
};

export const js: ImplementationTable<CpuKernel> = {
  [opKey('com.microsoft', 'RotaryEmbedding')]: kernel(contribRotaryPlan, 'com.microsoft'),
  [opKey('', 'RotaryEmbedding')]: kernel(onnxRotaryPlan, ''),
};
