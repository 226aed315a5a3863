import type { AnyTensor } from '../api/tensor.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';

export type BackendName = 'webgpu' | 'cpu';

/** A plan made ready for one backend: buffers sized, pipelines compiled, constants resident. */
export interface PreparedPlan {
  /** feeds by value id; resolves with the plan's outputs in `outputIds` order */
  run(feeds: ReadonlyMap<number, AnyTensor>): Promise<AnyTensor[]>;
  /** how many steps run on which device, for diagnostics */
  readonly placement: { readonly gpu: number; readonly cpu: number };
  release(): void;
}

export interface Backend {
  readonly name: BackendName;
  /** human-readable adapter description (e.g. "swiftshader (software)") */
  readonly adapterInfo: string;
  prepare(plan: ExecutionPlan): Promise<PreparedPlan>;
  release(): void;
}
