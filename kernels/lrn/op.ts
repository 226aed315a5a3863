import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * LRN (local response normalization across channels, AlexNet/GoogLeNet era) and
 * MeanVarianceNormalization (zero mean, unit variance over `axes`, default [0, 2, 3]). The
 * references are the spec's formulas as loops.
 */

export interface LrnLayout {
  readonly out: TensorMeta;
  readonly channels: number;
  /** elements per channel plane */
  readonly plane: number;
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly bias: number;
}

export function lrnLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): LrnLayout {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  if (x.dims.length < 3) fail('INVALID_GRAPH', `node '${ctx.node}': LRN needs X of rank >= 3 ([N, C, D1, ...]), got dims [${x.dims.join(', ')}]`);
  const size = ctx.attrs.int('size');
  if (size === undefined || size < 1) return fail('INVALID_GRAPH', `node '${ctx.node}': LRN needs the attribute size >= 1, got ${size}`);
  return {
    out: { dtype: x.dtype, dims: x.dims },
    channels: x.dims[1]!,
    plane: product(x.dims, 2),
    size,
    alpha: ctx.attrs.float('alpha', 1e-4),
    beta: ctx.attrs.float('beta', 0.75),
    bias: ctx.attrs.float('bias', 1),
  };
}

const lrn: OpDefinition = {
  opType: 'LRN',
  inferOutputs: (inputs, ctx) => [lrnLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const L = lrnLayout([metaOf(xt)], ctx);
    const x = toNumbers(xt);
    const res = new Float64Array(x.length);
    const before = Math.floor((L.size - 1) / 2);
    const after = Math.ceil((L.size - 1) / 2);
    for (let e = 0; e < x.length; e++) {
      const c = Math.floor(e / L.plane) % L.channels;
      let square = 0;
      for (let k = Math.max(0, c - before); k <= Math.min(L.channels - 1, c + after); k++) square += x[e + (k - c) * L.plane]! ** 2;
      res[e] = x[e]! / (L.bias + (L.alpha / L.size) * square) ** L.beta;
    }
    return [fromNumbers(xt.type, xt.dims, res)];
  },
};

function mvnAxes(x: TensorMeta, ctx: KernelContext): number[] {
  const axes = ctx.attrs.ints('axes', [0, 2, 3]).map((a) => normalizeAxis(a, x.dims.length, ctx));
  if (new Set(axes).size !== axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': MeanVarianceNormalization axes [${axes.join(', ')}] repeat an axis`);
  return axes;
}

const mvn: OpDefinition = {
  opType: 'MeanVarianceNormalization',
  inferOutputs(inputs, ctx) {
    const x = requireInput(inputs, 0, ctx);
    requireType(x, FLOAT_TYPES, ctx, 'X');
    mvnAxes(x, ctx);
    return [{ dtype: x.dtype, dims: x.dims }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const axes = new Set(mvnAxes(metaOf(xt), ctx));
    const x = toNumbers(xt);
    const strides = xt.dims.map((_, d) => product(xt.dims, d + 1));
    // group key: the element's indices on the axes not normalized over
    const keyOf = (e: number): number => xt.dims.reduce((k, size, d) => (axes.has(d) ? k : k * size + (Math.floor(e / strides[d]!) % size)), 0);
    const sums = new Map<number, [number, number, number]>();
    for (let e = 0; e < x.length; e++) {
      const s = sums.get(keyOf(e)) ?? [0, 0, 0];
      s[0] += x[e]!;
      s[1] += x[e]! ** 2;
      s[2]++;
      sums.set(keyOf(e), s);
    }
    const res = new Float64Array(x.length);
    for (let e = 0; e < x.length; e++) {
      const [sum, squares, n] = sums.get(keyOf(e))!;
      const mean = sum / n;
      // the spec's function: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)
      res[e] = (x[e]! - mean) / (Math.sqrt(squares / n - mean * mean) + 1e-9);
    }
    return [fromNumbers(xt.type, xt.dims, res)];
  },
};

export const definitions: readonly OpDefinition[] = [lrn, mvn];
