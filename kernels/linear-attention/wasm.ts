import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { MAX_ROW_PARTS, type WasmKernel } from '../wasm/contract.ts';
import { linearAttentionPlan } from './op.ts';

const F32 = 4;

/**
 * LinearAttention in wasm (kernels/wasm/src/recurrent.c kiln_linear_attention_f32): every update
 * rule, decay per row or per head, beta per head or shared, GQA, past or zeros, 4 state columns
 * per vector. The state is updated in place in present_state, or in the step's scratch when the
 * node does not output it; (batch, KV head) units split across the thread pool. float32 only: the
 * js kernel runs other types (through the reference).
 */
const linearAttention: WasmKernel = (inputs, outputs, ctx) => {
  const p = linearAttentionPlan(inputs, ctx);
  const used = [0, 1, 2, ...(p.hasPast ? [3] : []), ...(p.gated ? [4] : []), ...(p.delta ? [5] : [])];
  if (used.some((i) => inputs[i]?.dtype !== 'float32') || p.present.dtype !== 'float32') return undefined;
  const units = p.batch * p.kvHeads;
  const partBytes = 2 * p.dk * F32;
  const ownState = outputs.length < 2;
  const stateAt = MAX_ROW_PARTS * partBytes;
  return {
    reads: used,
    scratchBytes: stateAt + (ownState ? units * p.dk * p.dv * F32 : 0),
    persistentBytes: [],
    prepare(k) {
      k.fn('kiln_linear_attention_f32'); // a missing export fails at session creation
    },
    run(k, at) {
      const addr = (slot: number, used: boolean): number => (used ? at.inputs[slot]! : 0);
      k.parallelRows('kiln_linear_attention_f32', {
        args: [at.inputs[0]!, at.inputs[1]!, at.inputs[2]!, addr(3, p.hasPast), addr(4, p.gated), addr(5, p.delta), at.outputs[0]!,
          ownState ? at.scratch + stateAt : at.outputs[1]!, at.scratch,
          p.qHeads, p.kvHeads, p.seq, p.dk, p.dv, Math.max(1, p.decayWidth), Math.max(1, p.betaHeads), p.scale],
        floats: 1 << 16,
        rows: units,
        scratchArg: 8,
        scratchStride: partBytes,
        work: p.batch * p.seq * p.dk * p.dv * (p.kvHeads * (p.delta ? 3 : 2) + p.qHeads),
      });
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'LinearAttention')]: linearAttention };
