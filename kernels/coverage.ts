// Which ops are defined and which backends implement them: for docs/ops.md and its test.
import { definitions } from './definitions.ts';
import { webgpuKernelFor } from './webgpu/kernels.ts';

export interface RegisteredOp {
  readonly domain: string;
  readonly opType: string;
  /** has a WebGPU implementation */
  readonly gpu: boolean;
}

export function registeredOps(): RegisteredOp[] {
  return definitions.map((d) => ({ domain: d.domain ?? '', opType: d.opType, gpu: webgpuKernelFor(d) !== undefined }));
}
