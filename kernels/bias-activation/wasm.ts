import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { biasActivationPlan } from './op.ts';

// kernels/wasm/src/fused-norm.c's activation codes
const CODES: Readonly<Record<string, number>> = { FastGelu: 0, BiasGelu: 1, QuickGelu: 2 };

/** FastGelu, BiasGelu, QuickGelu on float32: y = act(x + bias) row by row; other types decline to js. */
const kernel = (opType: string): WasmKernel => (inputs, _outputs, ctx) => {
  if (inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const p = biasActivationPlan(opType, inputs, ctx);
  const n = p.out.dims.reduce((a, b) => a * b, 1);
  if (n === 0) return undefined;
  let f: WasmExport | undefined;
  return {
    reads: p.bias !== undefined ? [0, p.bias] : [0],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn('kiln_bias_act_f32');
    },
    run(k, at) {
      f ??= k.fn('kiln_bias_act_f32');
      f(CODES[opType]!, at.inputs[0]!, p.bias !== undefined ? at.inputs[p.bias]! : 0, at.outputs[0]!, n / p.channels, p.channels, p.alpha);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(Object.keys(CODES).map((op) => [opKey('com.microsoft', op), kernel(op)]));
