import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { intConvCpu } from '../conv-integer/js.ts';
import { qlinearConvWith } from './op.ts';

/** ConvInteger's tap-table loop (conv-integer/js.ts), then the same requantizing epilogue as the reference. */
const qlinearConv: CpuKernel = (inputs, ctx) => qlinearConvWith(intConvCpu, inputs, ctx);

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
