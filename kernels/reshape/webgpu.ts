import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { VIEW_OPS } from './op.ts';

/** The output is the input's buffer seen with other dims: no copy, no program. */
const view: WebGpuKernel = () => ({ kind: 'view', input: 0 });

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(VIEW_OPS.map((op) => [opKey('', op), view]));
