// Transitional: op families not yet split into op.ts + webgpu.ts still declare one object per op
// with its CPU code and WebGPU lowering together. This turns those into the new contract.
import type { CpuKernel, ImplementationTable, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from './contract.ts';
import { opKey } from './contract.ts';
import type { AnyTensor } from '../core/tensor.ts';
import type { WebGpuKernel } from './webgpu/contract.ts';

export interface LegacyOpKernel {
  readonly opType: string;
  readonly domain?: string;
  readonly hostInputs?: readonly number[];
  inferOutputs(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[];
  cpu: CpuKernel;
  evalFromMeta?(inputs: readonly MaybeMeta[], ctx: KernelContext): AnyTensor[];
  webgpu?: WebGpuKernel;
}

export function legacyDefinitions(kernels: readonly LegacyOpKernel[]): OpDefinition[] {
  return kernels.map(({ cpu, webgpu: _gpu, ...definition }) => ({ ...definition, reference: cpu }));
}

export function legacyWebgpu(kernels: readonly LegacyOpKernel[]): ImplementationTable<WebGpuKernel> {
  return Object.fromEntries(kernels.flatMap((k) => (k.webgpu ? [[opKey(k.domain, k.opType), k.webgpu]] : [])));
}
