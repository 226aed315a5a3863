import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * MaxUnpool (opsets 9, 11, 22): the partial inverse of MaxPool. Y starts as zeros and each X value is
 * written at the flat position (over all of Y, batch and channel included) its index names, as
 * MaxPool's Indices output gives them; a later duplicate index overwrites an earlier one, as in
 * onnxruntime and the ONNX reference. Y's shape is output_shape when given (a host input), else
 * (in - 1) * stride + kernel - pads per spatial axis. An index outside Y is a typed error at run time.
 */

export function maxUnpoolOutput(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  const idx = requireInput(inputs, 1, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  requireType(idx, ['int64'], ctx, 'I');
  const spatial = x.dims.length - 2;
  if (spatial < 1) fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool X must be [N, C, D1, ...], got dims [${x.dims.join(', ')}]`);
  if (idx.dims.length !== x.dims.length || idx.dims.some((d, i) => d !== x.dims[i])) fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool I must have X's shape [${x.dims.join(', ')}], got [${idx.dims.join(', ')}]`);
  const kernel = ctx.attrs.ints('kernel_shape') ?? fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool needs kernel_shape`);
  const strides = ctx.attrs.ints('strides', new Array<number>(spatial).fill(1));
  const pads = ctx.attrs.ints('pads', new Array<number>(2 * spatial).fill(0));
  if (kernel.length !== spatial || strides.length !== spatial || pads.length !== 2 * spatial) {
    fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool needs ${spatial} kernel_shape and strides entries and ${2 * spatial} pads, got ${kernel.length}, ${strides.length} and ${pads.length}`);
  }
  const given = inputs[2] ? hostInts(ctx, 2) ?? fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool output_shape must be known on the host`) : undefined;
  if (given) {
    if (given.length !== x.dims.length || given.some((d) => d < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool output_shape [${given.join(', ')}] must give ${x.dims.length} non-negative dims`);
    return { dtype: x.dtype, dims: given };
  }
  const dims = [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map((d, i) => (d - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + spatial]!)];
  if (dims.some((d) => d < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': MaxUnpool's output shape [${dims.join(', ')}] is negative (pads larger than the window)`);
  return { dtype: x.dtype, dims };
}

const maxUnpool: OpDefinition = {
  opType: 'MaxUnpool',
  hostInputs: [2],
  inferOutputs: (inputs, ctx) => [maxUnpoolOutput(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const out = maxUnpoolOutput(inputs.map((t) => (t ? metaOf(t) : undefined)), ctx);
    const x = toNumbers(inputs[0]!);
    const idx = toNumbers(inputs[1]!);
    const y = new Float64Array(product(out.dims));
    for (let i = 0; i < x.length; i++) {
      const at = idx[i]!;
      if (!(at >= 0 && at < y.length)) fail('INVALID_ARGUMENT', `node '${ctx.node}': MaxUnpool index ${at} (element ${i} of I) is outside the output's ${y.length} elements`);
      y[at] = x[i]!;
    }
    return [fromNumbers(out.dtype, out.dims, y)];
  },
};

export const definitions: readonly OpDefinition[] = [maxUnpool];
