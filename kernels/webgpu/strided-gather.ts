import type { TensorMeta } from '../contract.ts';
import { coalesce } from '../common/strided.ts';
import { product } from '../common/shape.ts';
import type { GpuKernelContext, GpuProgram } from './contract.ts';
import { ShaderBuilder } from './shader-builder.ts';

/**
 * One GPU program copying the affine view (dims, strides, base) of input `slot` into output
 * `outSlot` in row-major order. Strides are i32 uniforms: one pipeline per coalesced rank/type.
 */
export function stridedGatherProgram(ctx: GpuKernelContext, label: string, input: TensorMeta, slot: number, dims: readonly number[], strides: readonly number[], base: number, outSlot = 0): GpuProgram {
  const c = coalesce(dims, strides);
  const viewDims = c.dims.length ? c.dims : [1];
  const viewStrides = c.dims.length ? c.strides : [0];
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', input, slot);
  const Y = b.output('Y', { dtype: input.dtype, dims: viewDims }, outSlot);
  const n = b.uniform('n', 'u32', product(dims));
  const st = b.uniformArray('src_step', 'i32', viewStrides);
  const b0 = b.uniform('src_base', 'i32', base);
  const terms = viewDims.map((_, d) => ` + i32(idx[${d}]) * ${st}(${d}u)`).join('');
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let idx = ${Y.offsetToIndices('global_idx')};`,
    `  let off = ${b0}${terms};`,
    `  ${Y.set('global_idx', X.get('u32(off)'))}`,
  ].join('\n');
  return b.build({ label, body, totalInvocations: product(dims) });
}
