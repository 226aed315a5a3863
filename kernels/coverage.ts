// Which ops are defined and which backends implement them: for docs/ops.md and its test.
import { allDefinitions } from './all-ops.ts';
import { jsKernelFor } from './js/kernels.ts';
import { wasmKernelFor } from './wasm/kernels.ts';
import { webgpuKernelFor } from './webgpu/kernels.ts';

export interface RegisteredOp {
  readonly domain: string;
  readonly opType: string;
  /** has a WebGPU implementation */
  readonly gpu: boolean;
  /** has a wasm kernel (some cases may still decline to js) */
  readonly wasm: boolean;
  /** has a js fast path beside its reference */
  readonly js: boolean;
}

export function registeredOps(): RegisteredOp[] {
  return allDefinitions.map((d) => ({ domain: d.domain ?? '', opType: d.opType, gpu: webgpuKernelFor(d) !== undefined, wasm: wasmKernelFor(d) !== undefined, js: jsKernelFor(d) !== d.reference }));
}
