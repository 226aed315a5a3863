import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { convWebgpu } from '../conv/webgpu-program.ts';

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'ConvTranspose')]: (inputs, outputs, ctx) => convWebgpu(inputs, outputs, ctx, true) };
