// Elementwise chains on the wasm backend (issue 11): consecutive elementwise steps (unary ops,
// Clip, Pow by 2 or 3, Add/Sub/Mul/Div with a same-shape or broadcast-constant-like operand) whose
// intermediate values nothing else reads run as ONE pass (kernels/wasm/src/eltwise-chain.c): the
// intermediates take no arena space and the data is read and written once, not once per op. A
// decomposed HardSwish (Add, Clip, Div, Mul) or GELU (Div, Erf, Add, Mul, Mul) becomes one pass.
import type { ElementwiseStage, WasmStep } from '../../../kernels/wasm/contract.ts';
import { CHAIN_WORDS, unaryInstruction } from '../../../kernels/wasm/tail.ts';
import type { ExecutionPlan } from '../../plan/execution-plan.ts';

/** One op of a chain: a unary op, or a binary one with its other operand (a value id). */
export interface ChainLink {
  readonly stage: ElementwiseStage;
  /** binary: the operand that is not the chained value */
  readonly operand?: number;
  /** binary: the chained value is the op's second operand (order matters for Sub and Div) */
  readonly swap?: boolean;
  /** binary: the operand has the output's shape (else it is read along [outer, mid, inner]) */
  readonly operandFull?: boolean;
}

export interface ElementwiseChain {
  /** the member steps in plan order; the last one runs the whole chain, the others nothing */
  readonly steps: readonly number[];
  readonly links: readonly ChainLink[];
  /** the value the chain reads first, and the one it writes (the last member's output) */
  readonly input: number;
  readonly output: number;
  /** elements of every value along the chain */
  readonly n: number;
}

const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);


/**
 * The chains of two or more steps in `plan`, found greedily in plan order: a step joins the chain
 * that produced one of its full-shape inputs when that value is read by this step alone and is not
 * a graph output. Other steps' values (operands, the chain's input) stay in memory as before.
 */
export function findElementwiseChains(plan: ExecutionPlan, steps: readonly (WasmStep | undefined)[]): ElementwiseChain[] {
  const uses = new Map<number, number>();
  for (const step of plan.steps) for (const id of step.inputs) if (id !== undefined) uses.set(id, (uses.get(id) ?? 0) + 1);
  type Building = { steps: number[]; links: ChainLink[]; input: number; output: number; n: number };
  const endingAt = new Map<number, Building>();
  const all: Building[] = [];
  plan.steps.forEach((step, i) => {
    const stage = steps[i]?.elementwise;
    if (!stage || step.outputs.length !== 1) return;
    const out = step.outputs[0]!;
    const n = count(plan.values[out]!.meta.dims);
    const carriers = stage.kind === 'unary' ? [0] : stage.full;
    const link = (slot: number): ChainLink => {
      if (stage.kind === 'unary') return { stage };
      const other = 1 - slot;
      return { stage, operand: step.inputs[other]!, swap: slot === 1, operandFull: stage.full.includes(other) };
    };
    for (const slot of carriers) {
      const id = step.inputs[slot]!;
      const v = plan.values[id]!;
      const chain = endingAt.get(v.producer);
      if (!chain || chain.output !== id || uses.get(id) !== 1 || v.isOutput || chain.n !== n) continue;
      endingAt.delete(v.producer);
      chain.steps.push(i);
      chain.links.push(link(slot));
      chain.output = out;
      endingAt.set(i, chain);
      return;
    }
    const chain: Building = { steps: [i], links: [link(carriers[0]!)], input: step.inputs[carriers[0]!]!, output: out, n };
    all.push(chain);
    endingAt.set(i, chain);
  });
  return all.filter((c) => c.steps.length > 1);
}

/** The chain's program for kiln_chain_f32, with each operand's byte offset from `addressOf`. */
export function chainProgram(chain: ElementwiseChain, addressOf: (id: number) => number): Int32Array {
  const words = new Int32Array(chain.links.length * CHAIN_WORDS);
  chain.links.forEach((l, i) => {
    const w = words.subarray(i * CHAIN_WORDS, (i + 1) * CHAIN_WORDS);
    if (l.stage.kind === 'unary') {
      w.set(unaryInstruction(l.stage.code, l.stage.params[0], l.stage.params[1]));
    } else {
      w.set([1, l.stage.code, addressOf(l.operand!), l.operandFull ? 0 : 1, l.swap ? 1 : 0, l.stage.mid, l.stage.inner]);
    }
  });
  return words;
}
