import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, requireInput } from '../common/shape.ts';
import { gatherEach } from '../common/each-index.ts';
import { rowMajorStrides } from '../common/strided.ts';
import { hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Slice. Its parameters resolve to an affine view of the input (output dims, the input stride per
 * axis, a base offset), which the js and WebGPU implementations copy; the reference walks the
 * output and reads start + i * step on every axis instead.
 */

/** A slice as an affine view of the input: output dims, the input stride per axis, a base offset. */
export interface SliceView {
  readonly dims: number[];
  readonly strides: number[];
  readonly base: number;
  /** per axis: the first index read and the step (0 and 1 on axes the slice leaves alone) */
  readonly starts: number[];
  readonly steps: number[];
}

export function sliceView(x: TensorMeta, ctx: KernelContext): SliceView {
  const rank = x.dims.length;
  // Slice-1 took starts/ends/axes as attributes; Slice-10 made them inputs and added steps.
  const fromInputs = ctx.opset >= 10;
  const starts = fromInputs ? hostInts(ctx, 1) : ctx.attrs.ints('starts');
  const ends = fromInputs ? hostInts(ctx, 2) : ctx.attrs.ints('ends');
  if (!starts || !ends) return fail('INVALID_GRAPH', `node '${ctx.node}': Slice needs starts and ends`);
  const axes = (fromInputs ? hostInts(ctx, 3) : ctx.attrs.ints('axes')) ?? starts.map((_, i) => i);
  const steps = (fromInputs ? hostInts(ctx, 4) : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Slice starts, ends, axes and steps have different lengths (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
  }
  const inStrides = rowMajorStrides(x.dims);
  const dims = [...x.dims];
  const strides = [...inStrides];
  const first = new Array<number>(rank).fill(0);
  const stepOf = new Array<number>(rank).fill(1);
  let base = 0;
  const seen = new Set<number>();
  axes.forEach((axis, i) => {
    const a = normalizeAxis(axis, rank, ctx);
    if (seen.has(a)) fail('INVALID_GRAPH', `node '${ctx.node}': Slice axis ${axis} appears twice`);
    seen.add(a);
    const n = x.dims[a]!;
    const step = steps[i]!;
    if (step === 0) fail('INVALID_GRAPH', `node '${ctx.node}': Slice step on axis ${axis} is 0`);
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += n;
    if (e < 0) e += n;
    // Clamp as the spec says: [0, n] going forward, [-1, n-1] going backward (-1 = before the first).
    if (step > 0) {
      s = Math.min(Math.max(s, 0), n);
      e = Math.min(Math.max(e, 0), n);
    } else {
      s = Math.min(Math.max(s, 0), n - 1);
      e = Math.min(Math.max(e, -1), n - 1);
    }
    const len = Math.max(0, Math.ceil((e - s) / step));
    dims[a] = len;
    strides[a] = inStrides[a]! * step;
    if (len > 0) base += s * inStrides[a]!;
    first[a] = s;
    stepOf[a] = step;
  });
  return { dims, strides, base, starts: first, steps: stepOf };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Slice',
    hostInputs: [1, 2, 3, 4],
    inferOutputs(inputs: readonly MaybeMeta[], ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: sliceView(x, ctx).dims }];
    },
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const v = sliceView(metaOf(x), ctx);
      const inStrides = rowMajorStrides(x.dims);
      return [gatherEach(x, v.dims, (idx) => idx.reduce((off, i, d) => off + (v.starts[d]! + i * v.steps[d]!) * inStrides[d]!, 0))];
    },
  },
];
