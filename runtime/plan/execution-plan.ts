import type { AnyTensor } from '../../core/tensor.ts';
import type { KernelContext, OpDefinition, TensorMeta } from '../../kernels/contract.ts';
import type { Node } from '../graph/ir.ts';

/** A tensor in a plan: a graph input, a constant (initializer or folded), or a step's result. */
export interface PlannedValue {
  readonly id: number;
  readonly name: string;
  readonly meta: TensorMeta;
  readonly kind: 'input' | 'const' | 'intermediate';
  readonly constValue?: AnyTensor;
  /** index of the producing step (-1 for inputs and constants) */
  readonly producer: number;
  /** last step that reads it; steps.length when it is a graph output */
  lastUse: number;
  readonly isOutput: boolean;
}

export interface PlannedStep {
  readonly index: number;
  readonly node: Node;
  readonly op: OpDefinition;
  readonly ctx: KernelContext;
  /** value ids, undefined for omitted optional inputs */
  readonly inputs: readonly (number | undefined)[];
  readonly outputs: readonly number[];
}

/**
 * A graph input whose value a run may leave out: it is then what the previous run of the same plan
 * wrote into `output` (generate()'s KV cache on wasm: the present is the next step's past, kept in
 * the backend's memory). `output` is computed every run, fetched or not.
 */
export interface CarriedValue {
  readonly input: number;
  readonly output: number;
}

/** Everything static about one run shape: backends turn it into buffers, pipelines and bind groups. */
export interface ExecutionPlan {
  readonly values: readonly PlannedValue[];
  readonly steps: readonly PlannedStep[];
  readonly inputIds: ReadonlyMap<string, number>;
  readonly outputIds: readonly number[];
  /** only on backends that keep values between runs (wasm); absent or empty elsewhere */
  readonly carried?: readonly CarriedValue[];
}
