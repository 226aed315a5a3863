import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

export type Kind = 'Softmax' | 'LogSoftmax' | 'Hardmax';

/**
 * Every op here works on "rows": the elements along the axis for one position of the other dims.
 * Row r starts at (r / inner) * len * inner + r % inner and steps by `inner`. Before opset 13 the
 * input is coerced to 2-D at `axis`, which is the same with len = product(dims[axis:]), inner = 1.
 */
interface Rows {
  readonly rows: number;
  readonly len: number;
  readonly inner: number;
}

export function rowsOf(x: TensorMeta, ctx: KernelContext, opType: Kind): Rows {
  const rank = x.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 1, got a scalar`);
  const total = product(x.dims);
  if (ctx.opset < 13) {
    const given = ctx.attrs.int('axis', 1);
    // the 2-D coercion accepts axis == rank (a single row per element)
    const axis = given === rank || given === -rank - 1 ? rank : normalizeAxis(given, rank, ctx);
    const len = product(x.dims, axis);
    return { rows: len === 0 ? 0 : total / len, len, inner: 1 };
  }
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), rank, ctx);
  const len = x.dims[axis]!;
  return { rows: len === 0 ? 0 : total / len, len, inner: product(x.dims, axis + 1) };
}

export function inferSoftmax(inputs: readonly MaybeMeta[], ctx: KernelContext, opType: Kind): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  rowsOf(x, ctx, opType);
  return { dtype: x.dtype, dims: x.dims };
}

function cpuRows(kind: Kind, xv: Float64Array, { rows, len, inner }: Rows): Float64Array {
  const out = new Float64Array(xv.length);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / inner) * len * inner + (r % inner);
    let max = -Infinity;
    let at = 0;
    for (let j = 0; j < len; j++) {
      const v = xv[base + j * inner]!;
      if (v > max) {
        max = v;
        at = j;
      }
    }
    if (kind === 'Hardmax') {
      out[base + at * inner] = 1;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < len; j++) sum += Math.exp(xv[base + j * inner]! - max);
    const logSum = Math.log(sum);
    for (let j = 0; j < len; j++) {
      const o = base + j * inner;
      out[o] = kind === 'Softmax' ? Math.exp(xv[o]! - max) / sum : xv[o]! - max - logSum;
    }
  }
  return out;
}

function definitionOf(kind: Kind): OpDefinition {
  return {
    opType: kind,
    inferOutputs: (inputs, ctx) => [inferSoftmax(inputs, ctx, kind)],
    reference(inputs, ctx) {
      const x = inputs[0]!;
      const out = inferSoftmax([metaOf(x)], ctx, kind);
      return [fromNumbers(out.dtype, out.dims, cpuRows(kind, toNumbers(x), rowsOf(out, ctx, kind)))];
    },
  };
}

export const definitions: readonly OpDefinition[] = [definitionOf('Softmax'), definitionOf('LogSoftmax'), definitionOf('Hardmax')];
