import type { AnyTensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import type { ExecutionPlan } from '../../plan/execution-plan.ts';
import type { Backend, PreparedPlan } from '../backend.ts';
import { runStepOnCpu, type CpuKernels } from './run-step.ts';

/** Runs every step with the kernels' CPU implementations; values are dropped after their last use. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapterInfo: string;

  /** 'reference' runs each op's plain reference instead of its fast path (tests, checking a result). */
  constructor(private readonly kernels: CpuKernels = 'fast') {
    this.adapterInfo = kernels === 'reference' ? 'cpu (reference kernels)' : 'cpu';
  }

  async prepare(plan: ExecutionPlan): Promise<PreparedPlan> {
    return {
      placement: { gpu: 0, cpu: plan.steps.length, steps: plan.steps.map((s) => ({ node: s.node.name, opType: s.node.opType, device: 'cpu', reason: 'backend', implementation: 'js' })) },
      run: async (feeds) => runPlanOnCpu(plan, feeds, this.kernels),
      release: () => {},
    };
  }

  release(): void {}
}

function runPlanOnCpu(plan: ExecutionPlan, feeds: ReadonlyMap<number, AnyTensor>, kernels: CpuKernels): AnyTensor[] {
  const live = new Map<number, AnyTensor>(feeds);
  const read = (id: number): AnyTensor => {
    const v = plan.values[id]!;
    return v.constValue ?? live.get(id) ?? fail('INTERNAL', `value '${v.name}' read before it was computed`);
  };
  for (const step of plan.steps) {
    const outs = runStepOnCpu(plan, step, read, kernels);
    step.outputs.forEach((id, i) => id >= 0 && live.set(id, outs[i]!));
    for (const id of step.inputs) if (id !== undefined && plan.values[id]!.lastUse === step.index && !plan.values[id]!.isOutput) live.delete(id);
  }
  return plan.outputIds.map(read);
}
