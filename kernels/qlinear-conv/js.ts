import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { intConvCpu } from '../conv-integer/js.ts';
import { qlinearConvFusedWith } from './op.ts';

/** ConvInteger's tap-table loop (conv-integer/js.ts), then the same requantizing epilogue (and folded ops) as the reference. */
const qlinearConv: CpuKernel = (inputs, ctx) => qlinearConvFusedWith(intConvCpu, inputs, ctx);

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
