import type { AnyTensor } from '../../../core/tensor.ts';
import { KilnError, fail } from '../../../core/errors.ts';
import type { MaybeTensor } from '../../../kernels/contract.ts';
import { jsKernelFor } from '../../../kernels/js/kernels.ts';
import type { ExecutionPlan, PlannedStep } from '../../plan/execution-plan.ts';

/** 'fast': each op's js implementation (its reference where it has none); 'reference': always the reference. */
export type CpuKernels = 'fast' | 'reference';

/** Runs one step on the CPU, checking the result against the plan's shapes. */
export function runStepOnCpu(plan: ExecutionPlan, step: PlannedStep, read: (id: number) => AnyTensor, kernels: CpuKernels = 'fast'): AnyTensor[] {
  const inputs: MaybeTensor[] = step.inputs.map((id) => (id === undefined ? undefined : read(id)));
  let outs: AnyTensor[];
  try {
    outs = (kernels === 'reference' ? step.op.reference : jsKernelFor(step.op))(inputs, step.ctx);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError('INTERNAL', `${step.node.opType} node '${step.node.name}' failed on the CPU: ${(e as Error).message}`);
  }
  step.outputs.forEach((id, i) => {
    if (id < 0) return;
    const want = plan.values[id]!.meta;
    const got = outs[i];
    if (!got || got.type !== want.dtype || got.dims.length !== want.dims.length || got.dims.some((d, k) => d !== want.dims[k])) {
      fail('INTERNAL', `${step.node.opType} node '${step.node.name}': CPU output #${i} is ${got ? `${got.type}[${got.dims}]` : 'missing'}, planned ${want.dtype}[${want.dims}]`);
    }
  });
  return outs;
}
