import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { causalConvPlan } from './op.ts';

/**
 * CausalConvWithState in wasm (kernels/wasm/src/recurrent.c kiln_causal_conv_f32): every kernel
 * size, bias, past or zeros, SiLU / none, present_state when the node outputs it; (batch, channel)
 * rows split across the thread pool. float32 only: the js kernel runs other types.
 */
const causalConv: WasmKernel = (inputs, outputs, ctx) => {
  const p = causalConvPlan(inputs, ctx);
  if (inputs[0]?.dtype !== 'float32') return undefined; // the plan checked that every input has its type
  const reads = [0, 1, ...(p.hasBias ? [2] : []), ...(p.hasPast ? [3] : [])];
  const present = outputs.length > 1;
  return {
    reads,
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      k.fn('kiln_causal_conv_f32'); // a missing export fails at session creation
    },
    run(k, at) {
      k.parallelRows('kiln_causal_conv_f32', {
        args: [at.inputs[0]!, at.inputs[1]!, p.hasBias ? at.inputs[2]! : 0, p.hasPast ? at.inputs[3]! : 0, at.outputs[0]!, present ? at.outputs[1]! : 0,
          p.channels, p.length, p.kernel, p.silu ? 1 : 0],
        floats: 0,
        rows: p.batch * p.channels,
        scratchArg: 0,
        scratchStride: 0,
        work: p.batch * p.channels * p.length * p.kernel,
      });
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'CausalConvWithState')]: causalConv };
