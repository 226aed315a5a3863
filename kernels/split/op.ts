import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { hostInts } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/** Split: one input cut along an axis. The reference copies each part's rows out. */

/** Lengths of each output along the axis: the split list, num_outputs (opset 18) or equal parts. */
function splitLengths(x: TensorMeta, axis: number, ctx: KernelContext, outputs: number): number[] {
  const dim = x.dims[axis]!;
  // Split-2 and Split-11 took `split` as an attribute; Split-13 made it input #1.
  const given = ctx.opset >= 13 ? hostInts(ctx, 1) : ctx.attrs.ints('split');
  if (given && given.length > 0) {
    if (given.some((s) => s < 0) || given.reduce((a, b) => a + b, 0) !== dim) {
      fail('INVALID_GRAPH', `node '${ctx.node}': split [${given.join(', ')}] does not sum to the axis length ${dim}`);
    }
    if (given.length !== outputs) fail('INVALID_GRAPH', `node '${ctx.node}': split has ${given.length} parts but the node has ${outputs} outputs`);
    return [...given];
  }
  const numOutputs = ctx.attrs.int('num_outputs');
  if (numOutputs !== undefined) {
    if (numOutputs !== outputs || numOutputs < 1) fail('INVALID_GRAPH', `node '${ctx.node}': num_outputs ${numOutputs} does not match the ${outputs} outputs`);
    // opset 18: every part has ceil(dim / n) elements but the last, which takes the rest.
    const part = Math.ceil(dim / numOutputs);
    return Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(part, dim - part * i)));
  }
  if (dim % outputs !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': axis length ${dim} does not split into ${outputs} equal parts`);
  return new Array<number>(outputs).fill(dim / outputs);
}

export function splitLayout(inputs: readonly MaybeMeta[], ctx: KernelContext, outputs: number): { axis: number; lengths: number[]; x: TensorMeta } {
  const x = requireInput(inputs, 0, ctx);
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), x.dims.length, ctx);
  return { x, axis, lengths: splitLengths(x, axis, ctx, outputs) };
}

export function outputCount(ctx: KernelContext): number {
  const given = ctx.opset >= 13 ? hostInts(ctx, 1) : ctx.attrs.ints('split');
  if (given && given.length > 0) return given.length;
  // Equal parts without num_outputs: as many as the node has outputs (the planner tells us).
  const n = ctx.attrs.int('num_outputs') ?? ctx.outputCount;
  if (n === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': Split without split or num_outputs needs the node's output count`);
  return n;
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Split',
    hostInputs: [1],
    inferOutputs(inputs, ctx) {
      const { x, axis, lengths } = splitLayout(inputs, ctx, outputCount(ctx));
      return lengths.map((len) => {
        const dims = [...x.dims];
        dims[axis] = len;
        return { dtype: x.dtype, dims };
      });
    },
    reference(inputs, ctx): AnyTensor[] {
      const t = inputs[0]!;
      const { x, axis, lengths } = splitLayout([{ dtype: t.type, dims: t.dims }], ctx, outputCount(ctx));
      const outer = product(x.dims, 0, axis);
      const inner = product(x.dims, axis + 1);
      const rowIn = x.dims[axis]! * inner;
      let start = 0;
      return lengths.map((len) => {
        const dims = [...x.dims];
        dims[axis] = len;
        const data = allocData(t.type, outer * len * inner);
        const row = len * inner;
        for (let r = 0; r < outer; r++) copyCells(data, r * row, t.data, r * rowIn + start, row);
        start += row;
        return new Tensor(t.type, data, dims);
      });
    },
  },
];
