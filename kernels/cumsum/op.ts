import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * CumSum and CumProd: running sums (products) along one axis (given as a scalar input), optionally
 * exclusive (each result leaves its own element out) and reverse (from the end). The reference is
 * the plain scan.
 */

export type ScanOp = 'CumSum' | 'CumProd';

export const CUMSUM_TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'];

export interface ScanLayout {
  readonly out: TensorMeta;
  readonly axis: number;
  /** elements before / along / after the axis */
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
  readonly exclusive: boolean;
  readonly reverse: boolean;
}

export function scanLayout(inputs: readonly MaybeMeta[], ctx: KernelContext, op: ScanOp = 'CumSum'): ScanLayout {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, CUMSUM_TYPES, ctx, 'x');
  const axisMeta = requireInput(inputs, 1, ctx);
  requireType(axisMeta, ['int32', 'int64'], ctx, 'axis');
  if (product(axisMeta.dims) !== 1 || axisMeta.dims.length > 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} axis must be a scalar (or one value), got dims [${axisMeta.dims.join(', ')}]`);
  if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs an input of rank >= 1, got a scalar`);
  const raw = hostInts(ctx, 1);
  if (!raw) return fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs its axis input`);
  const axis = normalizeAxis(raw[0]!, x.dims.length, ctx);
  return {
    out: { dtype: x.dtype, dims: x.dims },
    axis,
    outer: product(x.dims, 0, axis),
    len: x.dims[axis]!,
    inner: product(x.dims, axis + 1),
    exclusive: ctx.attrs.int('exclusive', 0) !== 0,
    reverse: ctx.attrs.int('reverse', 0) !== 0,
  };
}

function scanReference(op: ScanOp) {
  return (inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] => {
    const x = inputs[0]!;
    const L = scanLayout([metaOf(x), metaOf(inputs[1]!)], ctx, op);
    const v = toNumbers(x);
    const res = new Float64Array(v.length);
    const [start, step] = op === 'CumSum' ? [0, (a: number, b: number) => a + b] : [1, (a: number, b: number) => a * b];
    for (let o = 0; o < L.outer; o++) {
      for (let i = 0; i < L.inner; i++) {
        let acc = start;
        for (let k = 0; k < L.len; k++) {
          const j = L.reverse ? L.len - 1 - k : k;
          const at = (o * L.len + j) * L.inner + i;
          if (L.exclusive) {
            res[at] = acc;
            acc = step(acc, v[at]!);
          } else {
            acc = step(acc, v[at]!);
            res[at] = acc;
          }
        }
      }
    }
    return [fromNumbers(x.type, x.dims, res)];
  };
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'CumSum', hostInputs: [1], inferOutputs: (inputs, ctx) => [scanLayout(inputs, ctx).out], reference: scanReference('CumSum') },
  { opType: 'CumProd', hostInputs: [1], inferOutputs: (inputs, ctx) => [scanLayout(inputs, ctx, 'CumProd').out], reference: scanReference('CumProd') },
];
