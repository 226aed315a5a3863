import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { FUSED_NORM_PLANS } from './op.ts';

/** float32 with a full-size gamma (every exported transformer's case); others decline to the js kernel. */
const kernel = (opType: string): WasmKernel => (inputs, outputs, ctx) => {
  if (inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const plan = FUSED_NORM_PLANS[opType]!(inputs, ctx);
  if (plan.rows === 0 || product(plan.gamma.dims) !== plan.len) return undefined;
  const slots = [0, plan.skip?.slot, plan.bias, plan.gamma.slot, plan.beta].filter((s): s is number => s !== undefined);
  const out = (i: number | undefined): boolean => i !== undefined && i < outputs.length;
  return singleExportStep('kiln_skipnorm_f32', (at) => {
    const addr = (slot: number | undefined): number => (slot === undefined ? 0 : at.inputs[slot]!);
    const o = (i: number | undefined): number => (out(i) ? at.outputs[i!]! : 0);
    return [at.inputs[0]!, addr(plan.skip?.slot), plan.skip ? plan.skip.size / plan.len : 1, addr(plan.bias), at.inputs[plan.gamma.slot]!, addr(plan.beta),
      at.outputs[0]!, o(plan.sumOut), o(plan.meanOut), o(plan.invOut), plan.rows, plan.len, plan.epsilon, plan.simplified ? 1 : 0];
  }, { reads: slots });
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('com.microsoft', 'SkipLayerNormalization')]: kernel('SkipLayerNormalization'),
  [opKey('com.microsoft', 'SkipSimplifiedLayerNormalization')]: kernel('SkipSimplifiedLayerNormalization'),
  [opKey('', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('com.microsoft', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('', 'RMSNormalization')]: kernel('RMSNormalization'),
};
