import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput } from '../common/shape.ts';
import { hostInts } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Ops that only change the dims: Reshape, Flatten, Squeeze, Unsqueeze. On the GPU the output is a
 * view of the input buffer (no copy, webgpu.ts); on the CPU the output shares the input's data
 * array, which is as plain as a reference gets, so there is no separate js fast path.
 */

function reshapeDims(input: readonly number[], shape: readonly number[], allowZero: boolean, ctx: KernelContext): number[] {
  const out = shape.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= input.length) fail('INVALID_GRAPH', `node '${ctx.node}': Reshape shape [${shape.join(', ')}] copies dim ${i} (0), but the input has rank ${input.length}`);
      return input[i]!;
    }
    if (d < -1) fail('INVALID_GRAPH', `node '${ctx.node}': Reshape shape [${shape.join(', ')}] has an invalid dim ${d}`);
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1) fail('INVALID_GRAPH', `node '${ctx.node}': Reshape shape [${shape.join(', ')}] has more than one -1`);
  const total = product(input);
  if (unknown === 1) {
    const known = product(out.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': cannot reshape [${input.join(', ')}] to [${shape.join(', ')}]`);
    out[out.indexOf(-1)] = total / known;
  }
  if (product(out) !== total) fail('INVALID_GRAPH', `node '${ctx.node}': cannot reshape [${input.join(', ')}] (${total} elements) to [${out.join(', ')}]`);
  return out;
}

function squeezeDims(dims: readonly number[], axes: readonly number[] | undefined, ctx: KernelContext): number[] {
  if (!axes || axes.length === 0) return dims.filter((d) => d !== 1);
  const drop = new Set(axes.map((a) => normalizeAxis(a, dims.length, ctx)));
  for (const a of drop) if (dims[a] !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Squeeze axis ${a} has size ${dims[a]}, expected 1`);
  return dims.filter((_, i) => !drop.has(i));
}

function unsqueezeDims(dims: readonly number[], axes: readonly number[] | undefined, ctx: KernelContext): number[] {
  if (!axes || axes.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': Unsqueeze needs axes`);
  const rank = dims.length + axes.length;
  const add = new Set(axes.map((a) => normalizeAxis(a, rank, ctx)));
  if (add.size !== axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': Unsqueeze axes [${axes.join(', ')}] repeat an axis`);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : dims[k++]!);
  return out;
}

/** Axes from the attribute before `inputSince`, from input #1 (a host value) from then on. */
function axesOf(ctx: KernelContext, inputSince: number): readonly number[] | undefined {
  return ctx.opset >= inputSince ? hostInts(ctx, 1) : ctx.attrs.ints('axes');
}

function viewDefinition(opType: string, hostInputs: readonly number[], dimsOf: (input: TensorMeta, ctx: KernelContext) => number[]): OpDefinition {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    const x = requireInput(inputs, 0, ctx);
    return [{ dtype: x.dtype, dims: dimsOf(x, ctx) }];
  };
  return {
    opType,
    hostInputs,
    inferOutputs: infer,
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const [out] = infer([{ dtype: x.type, dims: x.dims }], ctx);
      return [new Tensor(x.type, x.data, out!.dims)];
    },
  };
}

export const VIEW_OPS = ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'] as const;

export const definitions: readonly OpDefinition[] = [
  viewDefinition('Reshape', [1], (x, ctx) => {
    // Reshape-1 took the shape as an attribute; from opset 5 it is input #1.
    const shape = ctx.opset < 5 ? ctx.attrs.ints('shape') : hostInts(ctx, 1);
    if (!shape) return fail('INVALID_GRAPH', `node '${ctx.node}': Reshape needs a shape`);
    return reshapeDims(x.dims, shape, ctx.attrs.int('allowzero', 0) !== 0, ctx);
  }),
  viewDefinition('Flatten', [], (x, ctx) => {
    const rank = x.dims.length;
    const axis = ctx.attrs.int('axis', 1);
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a > rank) fail('INVALID_GRAPH', `node '${ctx.node}': Flatten axis ${axis} is out of range for rank ${rank}`);
    return [product(x.dims, 0, a), product(x.dims, a)];
  }),
  viewDefinition('Squeeze', [1], (x, ctx) => squeezeDims(x.dims, axesOf(ctx, 13), ctx)),
  viewDefinition('Unsqueeze', [1], (x, ctx) => unsqueezeDims(x.dims, axesOf(ctx, 13), ctx)),
];
