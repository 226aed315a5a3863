import { convKernel } from '../conv/legacy.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * ConvTranspose shares Conv's CPU GEMM and WGSL implicit GEMM in gather form: output position o
 * reads input (o + pad - k*dilation) / stride where that is a whole, in-range index.
 */
export const kernels: readonly LegacyOpKernel[] = [convKernel(true)];
