import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { convWebgpu } from './webgpu-program.ts';

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Conv')]: (inputs, outputs, ctx) => convWebgpu(inputs, outputs, ctx, false) };
