import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Det (opset 11+): the determinant of each square matrix in X [..., M, M], computed in float64 by
 * Gaussian elimination with partial pivoting (the LU factorization numpy and onnxruntime use, so
 * ill-conditioned matrices round alike). Output [...].
 */

function detOutput(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  const r = x.dims.length;
  if (r < 2 || x.dims[r - 1] !== x.dims[r - 2]) fail('INVALID_GRAPH', `node '${ctx.node}': Det needs X of shape [..., M, M], got [${x.dims.join(', ')}]`);
  return { dtype: x.dtype, dims: x.dims.slice(0, -2) };
}

/** The determinant of the m x m row-major matrix at `a[base..]` (a is modified). */
export function determinant(a: Float64Array, base: number, m: number): number {
  let det = 1;
  for (let k = 0; k < m; k++) {
    let pivot = k;
    for (let i = k + 1; i < m; i++) if (Math.abs(a[base + i * m + k]!) > Math.abs(a[base + pivot * m + k]!)) pivot = i;
    const p = a[base + pivot * m + k]!;
    if (p === 0) return 0;
    if (pivot !== k) {
      for (let j = 0; j < m; j++) {
        const t = a[base + k * m + j]!;
        a[base + k * m + j] = a[base + pivot * m + j]!;
        a[base + pivot * m + j] = t;
      }
      det = -det;
    }
    det *= p;
    for (let i = k + 1; i < m; i++) {
      const f = a[base + i * m + k]! / p;
      for (let j = k + 1; j < m; j++) a[base + i * m + j]! -= f * a[base + k * m + j]!;
    }
  }
  return det;
}

const det: OpDefinition = {
  opType: 'Det',
  inferOutputs: (inputs, ctx) => [detOutput(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const out = detOutput([{ dtype: xt.type, dims: xt.dims }], ctx);
    const m = xt.dims[xt.dims.length - 1]!;
    const a = toNumbers(xt);
    const y = Float64Array.from({ length: product(out.dims) }, (_, b) => determinant(a, b * m * m, m));
    return [fromNumbers(out.dtype, out.dims, y)];
  },
};

export const definitions: readonly OpDefinition[] = [det];
