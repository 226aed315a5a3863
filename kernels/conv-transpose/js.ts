import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { convCpu } from '../conv/js.ts';

/** Conv's CPU path: a GEMM over input positions, then col2im (conv/js-transpose.ts). */
export const js: ImplementationTable<CpuKernel> = { [opKey('', 'ConvTranspose')]: (inputs, ctx) => convCpu(inputs, ctx, true) };
