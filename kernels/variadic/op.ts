import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, FLOAT_TYPES, NUMERIC_TYPES, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/** Sum, Mean, Max, Min over n >= 1 inputs, numpy-broadcast together (opset 8+; earlier opsets are a subset). */
export interface VariadicSpec {
  readonly opType: string;
  readonly types: readonly DataType[];
  readonly cpu: (acc: number, v: number) => number;
  /** WGSL combining `acc` and `v` */
  readonly wgsl: string;
  /** divide by n at the end */
  readonly mean?: boolean;
}

// NaN propagates as in numpy.maximum/minimum (Math.max already does).
export const VARIADIC_SPECS: readonly VariadicSpec[] = [
  { opType: 'Sum', types: FLOAT_TYPES, cpu: (a, v) => a + v, wgsl: 'acc + v' },
  { opType: 'Mean', types: FLOAT_TYPES, cpu: (a, v) => a + v, wgsl: 'acc + v', mean: true },
  { opType: 'Max', types: NUMERIC_TYPES, cpu: Math.max, wgsl: 'max(acc, v)' },
  { opType: 'Min', types: NUMERIC_TYPES, cpu: Math.min, wgsl: 'min(acc, v)' },
];

function definitionOf(spec: VariadicSpec): OpDefinition {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    if (inputs.length === 0 || inputs.some((m) => !m)) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} needs one or more inputs, none missing`);
    const metas = inputs as readonly TensorMeta[];
    for (const m of metas) {
      requireType(m, spec.types, ctx);
      if (m.dtype !== metas[0]!.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} inputs have different types (${metas[0]!.dtype}, ${m.dtype})`);
    }
    return [{ dtype: metas[0]!.dtype, dims: broadcastShapes(metas.map((m) => m.dims), ctx) }];
  };
  return {
    opType: spec.opType,
    inferOutputs: infer,
    // The reference: a float64 accumulator per output cell, inputs folded in one after another.
    reference(inputs, ctx): AnyTensor[] {
      const ts = inputs as readonly AnyTensor[];
      const out = infer(ts.map(metaOf), ctx)[0]!;
      const size = out.dims.reduce((a, d) => a * d, 1);
      const acc = new Float64Array(size);
      ts.forEach((t, k) => {
        const v = toNumbers(t);
        const map = broadcastIndexMap(out.dims, t.dims);
        if (k === 0) for (let i = 0; i < size; i++) acc[i] = v[map ? map[i]! : i]!;
        else for (let i = 0; i < size; i++) acc[i] = spec.cpu(acc[i]!, v[map ? map[i]! : i]!);
      });
      if (spec.mean) for (let i = 0; i < size; i++) acc[i] = acc[i]! / ts.length;
      return [fromNumbers(out.dtype, out.dims, acc)];
    },
  };
}

export const definitions: readonly OpDefinition[] = VARIADIC_SPECS.map(definitionOf);
