import type { AnyTensor } from '../../core/tensor.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';
import type { RunTiming } from '../telemetry/latency/run-timing.ts';

export type BackendName = 'webgpu' | 'cpu';

/** A plan made ready for one backend: buffers sized, pipelines compiled, constants resident. */
export interface PreparedPlan {
  /** feeds by value id; resolves with the plan's outputs in `outputIds` order. `timing` (telemetry) is filled in when given. */
  run(feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming): Promise<AnyTensor[]>;
  /** how long preparing took, for cold-start telemetry (backends with device memory) */
  readonly timings?: { readonly uploadMs: number; readonly compileMs: number };
  /** how many steps run on which device, for diagnostics */
  readonly placement: { readonly gpu: number; readonly cpu: number };
  release(): void;
}

export interface Backend {
  readonly name: BackendName;
  /** human-readable adapter description (e.g. "swiftshader (software)") */
  readonly adapterInfo: string;
  prepare(plan: ExecutionPlan): Promise<PreparedPlan>;
  /**
   * Streaming loads: make a weight resident while the rest of the model still downloads. A later
   * plan holding the same tensor object reuses it; the first plan prepared frees the preloads it
   * does not use (weights that graph passes replaced or folded). Backends without device memory omit it.
   */
  preload?(tensor: AnyTensor, name: string): void;
  release(): void;
}
