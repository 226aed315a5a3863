import type { AnyTensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import type { ExecutionPlan } from '../../plan/execution-plan.ts';
import type { Backend, PreparedPlan } from '../backend.ts';
import { runStepOnCpu, type CpuKernels } from './run-step.ts';

/**
 * The plain-TypeScript CPU backend: every step runs its op's js fast path (or its reference);
 * values are dropped after their last use. It runs where WebAssembly cannot (a CSP without
 * 'wasm-unsafe-eval') and is what the wasm backend falls back to per op.
 */
export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly adapterInfo: string;

  /** 'reference' runs each op's plain reference instead of its fast path (tests, checking a result). */
  /** `why`: said in adapterInfo when this backend stands in for one that could not start. */
  constructor(private readonly kernels: CpuKernels = 'fast', why?: string) {
    this.adapterInfo = (kernels === 'reference' ? 'js (reference kernels)' : 'js') + (why ? ` (${why})` : '');
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
