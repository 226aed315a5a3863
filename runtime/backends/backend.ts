import type { AnyTensor } from '../../core/tensor.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';
import type { RunTiming } from '../telemetry/latency/run-timing.ts';

/**
 * 'wasm': the WebAssembly SIMD CPU backend; 'js': plain TypeScript, where WebAssembly cannot run.
 * 'cpu' is accepted in executionProviders as onnxruntime-web's alias of 'wasm' (docs/decisions.md).
 */
export type BackendName = 'webgpu' | 'wasm' | 'js';

/** Where one step of a plan runs, and why not on the accelerator when it does not. */
export interface StepPlacement {
  readonly node: string;
  readonly opType: string;
  readonly device: 'gpu' | 'cpu';
  /**
   * For steps on the CPU: 'backend' (a CPU backend runs every step), 'no-kernel' (the op has no
   * implementation for this backend), 'dtype' (a tensor type the device cannot store), 'declined'
   * (the op's implementation does not handle this case: an attribute or shape it leaves to the CPU).
   */
  readonly reason?: 'backend' | 'no-kernel' | 'dtype' | 'declined';
  /** which kind of kernel ran it: the WebGPU lowering, a wasm kernel, or the op's js kernel */
  readonly implementation?: 'webgpu' | 'wasm' | 'js';
  /** wasm backend: the node whose one pass over the data also computed this elementwise step (a fused chain) */
  readonly fusedInto?: string;
}

/** Where the steps of a prepared plan run. */
export interface Placement {
  readonly gpu: number;
  readonly cpu: number;
  readonly steps: readonly StepPlacement[];
  /** wasm backend: threads its GEMMs run on, the calling one included (absent on other backends) */
  readonly threads?: number;
  /** WebGPU backend: compute dispatches one run encodes (a step may dispatch several programs, a view none) */
  readonly dispatches?: number;
  /**
   * wasm backend: tensors the last run copied between its memory and steps that ran js (a js step
   * reading a value a wasm step wrote, or writing one a wasm step reads); feeds and outputs are not
   * counted. 0 when every step that touches memory ran in wasm.
   */
  readonly arenaCopies?: number;
  /**
   * wasm backend: bytes the last run copied between host arrays and the module's memory (feeds in,
   * fetched outputs out, js steps' tensors): what a run costs besides its kernels.
   */
  readonly hostBytes?: number;
  /**
   * wasm backend: bytes the last run copied inside memory from a carried output (generate()'s
   * present) to its input (the next past), for carried pairs whose writer cannot write in place;
   * 0 when every pair shares its bytes or the run fed them all.
   */
  readonly carriedCopyBytes?: number;
  /** wasm backend: the carried inputs whose output shares their bytes (written in place, never copied) */
  readonly carriedShared?: readonly string[];
  /** wasm backend: the module memory's size in bytes now (it grows when a plan needs more, never shrinks) */
  readonly memoryBytes?: number;
  /** wasm backend: bytes of its memory the live plans on this backend hold now (bounded: a session keeps a few plans, released regions are reused) */
  readonly planBytes?: number;
}

/** Where a run's outputs go. Backends without device memory return every output on the CPU. */
export interface RunIo {
  /** indices into the plan's outputs to leave in GPU buffers ('gpu-buffer' tensors the caller disposes) */
  readonly gpuOutputs?: ReadonlySet<number>;
  /**
   * indices into the plan's outputs whose values go into these caller's tensors (run()'s
   * pre-allocated outputs, checked to match): a backend that honours it returns a Tensor over the
   * given data; the session copies whatever comes back over other data.
   */
  readonly into?: ReadonlyMap<number, AnyTensor>;
}

/** A plan made ready for one backend: buffers sized, pipelines compiled, constants resident. */
export interface PreparedPlan {
  /** feeds by value id; resolves with the plan's outputs in `outputIds` order. `timing` (telemetry) is filled in when given. */
  run(feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming, io?: RunIo): Promise<AnyTensor[]>;
  /** how long preparing took, for cold-start telemetry (backends with device memory) */
  readonly timings?: { readonly uploadMs: number; readonly compileMs: number };
  /** where each step runs, for diagnostics */
  readonly placement: Placement;
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
  /**
   * Streaming loads: start compiling what `plan` (built from the graph's shapes while the weights
   * still download) will need; returns how many compiles started. A later prepare() uses only what
   * it asks for by exact key. Backends that compile nothing omit it.
   */
  prewarm?(plan: ExecutionPlan): number;
  /** Resolves once no compile started by prewarm() or prepare() is in flight. */
  settled?(): Promise<void>;
  release(): void;
}
