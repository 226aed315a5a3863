import type { OpKernel } from './types.ts';

export const kernels: readonly OpKernel[] = [];
