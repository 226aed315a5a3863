import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { ML_DOMAIN, ML_NUMERIC_INPUTS, rowsOf } from '../ml-common/ml.ts';

/**
 * The ai.onnx.ml preprocessing ops scikit-learn pipelines export (skl2onnx), with onnxruntime's
 * semantics: Binarizer (X > threshold, X's type), Scaler ((X - offset) * scale in float32),
 * Normalizer (rows of [N, C] by MAX / L1 / L2, float32; a zero norm leaves the row as it is),
 * Imputer (replaced_value, or NaN, -> imputed value per feature) and ArrayFeatureExtractor
 * (X[..., indices]; a 1-D X gives [1, k]).
 */

const f = Math.fround;

function sameShape(inputs: readonly MaybeMeta[], ctx: KernelContext, types: readonly string[], dtype?: TensorMeta['dtype']): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, types, ctx, 'X');
  return { dtype: dtype ?? x.dtype, dims: x.dims };
}

const binarizer: OpDefinition = {
  opType: 'Binarizer',
  domain: ML_DOMAIN,
  inferOutputs: (inputs, ctx) => [sameShape(inputs, ctx, ML_NUMERIC_INPUTS)],
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const out = sameShape([{ dtype: xt.type, dims: xt.dims }], ctx, ML_NUMERIC_INPUTS);
    const t = ctx.attrs.float('threshold', 0);
    return [fromNumbers(out.dtype, out.dims, toNumbers(xt).map((v) => (v > t ? 1 : 0)))];
  },
};

/** A per-feature attribute list of length 1 (every feature) or C. */
function perFeature(ctx: KernelContext, name: string, values: readonly number[], c: number): (j: number) => number {
  if (values.length === 1) return () => values[0]!;
  if (values.length !== c) fail('INVALID_MODEL', `node '${ctx.node}': ${name} has ${values.length} values for ${c} features (want 1 or ${c})`);
  return (j) => values[j]!;
}

const scaler: OpDefinition = {
  opType: 'Scaler',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const out = sameShape(inputs, ctx, ML_NUMERIC_INPUTS, 'float32');
    const { c } = rowsOf(out, ctx, 'Scaler');
    perFeature(ctx, 'offset', ctx.attrs.floats('offset', [0]), c);
    perFeature(ctx, 'scale', ctx.attrs.floats('scale', [1]), c);
    return [out];
  },
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const { c } = rowsOf(xt, ctx, 'Scaler');
    const offset = perFeature(ctx, 'offset', ctx.attrs.floats('offset', [0]), c);
    const scale = perFeature(ctx, 'scale', ctx.attrs.floats('scale', [1]), c);
    const y = toNumbers(xt).map((v, i) => f(f(f(v) - offset(i % c)) * scale(i % c)));
    return [fromNumbers('float32', xt.dims, y)];
  },
};

const normalizer: OpDefinition = {
  opType: 'Normalizer',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const out = sameShape(inputs, ctx, ML_NUMERIC_INPUTS, 'float32');
    rowsOf(out, ctx, 'Normalizer');
    normOf(ctx);
    return [out];
  },
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const { n, c } = rowsOf(xt, ctx, 'Normalizer');
    const norm = normOf(ctx);
    const x = toNumbers(xt);
    const y = new Float64Array(x.length);
    for (let r = 0; r < n; r++) {
      const row = Array.from(x.subarray(r * c, (r + 1) * c), f);
      let z = 0;
      if (norm === 'MAX') z = row.reduce((m, v) => Math.max(m, v), -3.4028234663852886e38);
      else if (norm === 'L1') for (const v of row) z = f(z + Math.abs(v));
      else for (const v of row) z = f(z + f(v * v));
      for (let j = 0; j < c; j++) {
        const v = row[j]!;
        if (z === 0) y[r * c + j] = v;
        else if (norm === 'L2') y[r * c + j] = (v < 0 ? -1 : 1) * f(Math.sqrt(f(f(v * v) / z)));
        else y[r * c + j] = f(v / z);
      }
    }
    return [fromNumbers('float32', xt.dims, y)];
  },
};

function normOf(ctx: KernelContext): 'MAX' | 'L1' | 'L2' {
  const v = ctx.attrs.string('norm', 'MAX');
  if (v !== 'MAX' && v !== 'L1' && v !== 'L2') fail('INVALID_MODEL', `node '${ctx.node}': unknown norm '${v}' (MAX, L1 or L2)`);
  return v;
}

const imputer: OpDefinition = {
  opType: 'Imputer',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const out = sameShape(inputs, ctx, ['float32', 'int64']);
    imputed(ctx, out);
    return [out];
  },
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const { values, replaced } = imputed(ctx, { dtype: xt.type, dims: xt.dims });
    const c = xt.dims.length === 0 ? 1 : xt.dims[xt.dims.length - 1]!;
    const x = toNumbers(xt);
    const y = x.map((v, i) => (v === replaced || (Number.isNaN(replaced) && Number.isNaN(v)) ? values[values.length === 1 ? 0 : i % c]! : v));
    return [fromNumbers(xt.type, xt.dims, y)];
  },
};

function imputed(ctx: KernelContext, x: TensorMeta): { values: readonly number[]; replaced: number } {
  const floats = x.dtype === 'float32';
  const values = (floats ? ctx.attrs.floats('imputed_value_floats') : ctx.attrs.ints('imputed_value_int64s')) ?? [];
  const c = x.dims.length === 0 ? 1 : x.dims[x.dims.length - 1]!;
  if (values.length !== 1 && values.length !== c) {
    fail('INVALID_MODEL', `node '${ctx.node}': Imputer has ${values.length} ${floats ? 'imputed_value_floats' : 'imputed_value_int64s'} for ${c} features (want 1 or ${c})`);
  }
  const replaced = floats ? ctx.attrs.float('replaced_value_float', 0) : ctx.attrs.int('replaced_value_int64', 0);
  return { values, replaced };
}

function extractorOutput(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  const y = requireInput(inputs, 1, ctx);
  requireType(x, [...ML_NUMERIC_INPUTS, 'string'], ctx, 'X');
  requireType(y, ['int64'], ctx, 'Y');
  if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ArrayFeatureExtractor needs X of rank 1 or more`);
  const k = product(y.dims);
  if (k === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ArrayFeatureExtractor needs at least one index`);
  return { dtype: x.dtype, dims: x.dims.length === 1 ? [1, k] : [...x.dims.slice(0, -1), k] };
}

const arrayFeatureExtractor: OpDefinition = {
  opType: 'ArrayFeatureExtractor',
  domain: ML_DOMAIN,
  inferOutputs: (inputs, ctx) => [extractorOutput(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const [xt, it] = [inputs[0]!, inputs[1]!];
    const out = extractorOutput([{ dtype: xt.type, dims: xt.dims }, { dtype: it.type, dims: it.dims }], ctx);
    const c = xt.dims[xt.dims.length - 1]!;
    const idx = Array.from(it.data as BigInt64Array, Number);
    for (const i of idx) if (i < 0 || i >= c) fail('INVALID_ARGUMENT', `node '${ctx.node}': ArrayFeatureExtractor index ${i} is outside [0, ${c})`);
    const rows = xt.size / c;
    const pick = (r: number, j: number): number => r * c + idx[j]!;
    if (xt.type === 'string') {
      const src = xt.data as string[];
      return [new Tensor('string', Array.from({ length: rows * idx.length }, (_, k) => src[pick(Math.floor(k / idx.length), k % idx.length)]!), out.dims)];
    }
    if (xt.type === 'int64') {
      const src = xt.data as BigInt64Array;
      return [new Tensor('int64', BigInt64Array.from({ length: rows * idx.length }, (_, k) => src[pick(Math.floor(k / idx.length), k % idx.length)]!), out.dims)];
    }
    const x = toNumbers(xt);
    return [fromNumbers(xt.type, out.dims, Float64Array.from({ length: rows * idx.length }, (_, k) => x[pick(Math.floor(k / idx.length), k % idx.length)]!))];
  },
};

export const definitions: readonly OpDefinition[] = [binarizer, scaler, normalizer, imputer, arrayFeatureExtractor];
