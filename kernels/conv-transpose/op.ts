import type { OpDefinition } from '../contract.ts';
import { convDefinition } from '../conv/op.ts';

/**
 * ConvTranspose shares Conv's definition and reference, its CPU GEMM (col2im) and its WGSL
 * implicit GEMM in gather form: output position o reads input (o + pad - k*dilation) / stride
 * where that is a whole, in-range index.
 */
export const definitions: readonly OpDefinition[] = [convDefinition(true)];
