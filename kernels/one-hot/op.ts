import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { hostFloats, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * OneHot: a new axis of length depth holding values[1] where it equals the index and values[0]
 * elsewhere. Indices in [-depth, 0) count from the end; any other index out of range gives a row
 * of values[0] (the spec's rule, not an error). Float indices are truncated, as onnxruntime does.
 */

export interface OneHotLayout {
  readonly out: TensorMeta;
  readonly depth: number;
  /** elements of indices before / after the new axis */
  readonly outer: number;
  readonly inner: number;
}

export function oneHotLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): OneHotLayout {
  const indices = requireInput(inputs, 0, ctx);
  requireType(indices, NUMERIC_TYPES, ctx, 'indices');
  const depthMeta = requireInput(inputs, 1, ctx);
  requireType(depthMeta, NUMERIC_TYPES, ctx, 'depth');
  if (product(depthMeta.dims) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': OneHot depth must hold one value, got dims [${depthMeta.dims.join(', ')}]`);
  const values = requireInput(inputs, 2, ctx);
  if (values.dims.length !== 1 || values.dims[0] !== 2) fail('INVALID_GRAPH', `node '${ctx.node}': OneHot values must be [off, on] (dims [2]), got dims [${values.dims.join(', ')}]`);
  const raw = hostFloats(ctx, 1)?.[0];
  if (raw === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': OneHot needs the value of depth`);
  const depth = Math.trunc(raw);
  if (!(depth >= 1)) fail('INVALID_GRAPH', `node '${ctx.node}': OneHot depth ${raw} must be >= 1`);
  const r = indices.dims.length + 1;
  const a = ctx.attrs.int('axis', -1);
  const axis = a < 0 ? a + r : a;
  if (axis < 0 || axis >= r) fail('INVALID_GRAPH', `node '${ctx.node}': axis ${a} is out of range for rank ${r}`);
  const dims = [...indices.dims.slice(0, axis), depth, ...indices.dims.slice(axis)];
  return { out: { dtype: values.dtype, dims }, depth, outer: product(indices.dims, 0, axis), inner: product(indices.dims, axis) };
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [indices, values] = [inputs[0]!, inputs[2]!];
  const L = oneHotLayout(inputs.map((t) => t && metaOf(t)), ctx);
  const idx = toNumbers(indices);
  const res = allocData(values.type, product(L.out.dims));
  for (let o = 0; o < L.outer; o++) {
    for (let d = 0; d < L.depth; d++) {
      for (let i = 0; i < L.inner; i++) {
        const raw = Math.trunc(idx[o * L.inner + i]!);
        const at = raw < 0 ? raw + L.depth : raw;
        copyCells(res, (o * L.depth + d) * L.inner + i, values.data, at === d ? 1 : 0, 1);
      }
    }
  }
  return [new Tensor(values.type, res, L.out.dims)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'OneHot', hostInputs: [1], inferOutputs: (inputs, ctx) => [oneHotLayout(inputs, ctx).out], reference },
];
