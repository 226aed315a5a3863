import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { product, requireInput } from '../common/shape.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Shape and Size depend only on the input's dims, which the planner knows, so they fold at plan
 * time through `evalFromMeta` and never run as steps.
 */

/** Shape-15 `start`/`end`: a slice of the dims, negative from the end, clamped to [0, rank]. */
function shapeRange(rank: number, ctx: KernelContext): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(ctx.attrs.int('start', 0)), clamp(ctx.attrs.int('end', rank))];
}

function shapeOf(x: TensorMeta, ctx: KernelContext): AnyTensor {
  const [s, e] = shapeRange(x.dims.length, ctx);
  const dims = x.dims.slice(s, Math.max(s, e));
  return new Tensor('int64', BigInt64Array.from(dims, (d) => BigInt(d)), [dims.length]);
}

const sizeOf = (x: TensorMeta): AnyTensor => new Tensor('int64', BigInt64Array.of(BigInt(product(x.dims))), []);

const metaKernel = (opType: string, evaluate: (x: TensorMeta, ctx: KernelContext) => AnyTensor): OpDefinition => {
  const run = (inputs: readonly MaybeMeta[], ctx: KernelContext): AnyTensor[] => [evaluate(requireInput(inputs, 0, ctx), ctx)];
  return {
    opType,
    inferOutputs: (inputs, ctx) => run(inputs, ctx).map((t) => ({ dtype: t.type, dims: t.dims })),
    evalFromMeta: run,
    reference: (inputs, ctx) => run(inputs.map((t) => t && { dtype: t.type, dims: t.dims }), ctx),
  };
};

export const definitions: readonly OpDefinition[] = [metaKernel('Shape', shapeOf), metaKernel('Size', sizeOf)];
