import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { biasActivationPlan } from './op.ts';

// kernels/wasm/src/fused-norm.c's activation codes
const CODES: Readonly<Record<string, number>> = { FastGelu: 0, BiasGelu: 1, QuickGelu: 2 };

/** FastGelu, BiasGelu, QuickGelu on float32: y = act(x + bias) row by row; other types decline to js. */
const kernel = (opType: string): WasmKernel => (inputs, _outputs, ctx) => {
  if (inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const p = biasActivationPlan(opType, inputs, ctx);
  const n = p.out.dims.reduce((a, b) => a * b, 1);
  if (n === 0) return undefined;
  const bias = p.bias;
  return singleExportStep('kiln_bias_act_f32', (at) => [CODES[opType]!, at.inputs[0]!, bias !== undefined ? at.inputs[bias]! : 0, at.outputs[0]!, n / p.channels, p.channels, p.alpha], {
    reads: bias !== undefined ? [0, bias] : [0],
  });
};

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(Object.keys(CODES).map((op) => [opKey('com.microsoft', op), kernel(op)]));
