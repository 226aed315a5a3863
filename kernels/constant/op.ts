import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput, requireRank, requireType } from '../common/shape.ts';
import { cellValue, filled } from '../common/strided.ts';
import { fromNumbers, hostFloats, hostInts } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Ops that make tensors from attributes and host values: Constant, ConstantOfShape, Range,
 * EyeLike. Their inputs are all host values or shapes, so the planner folds them: they only need
 * a CPU implementation and never run as GPU steps.
 */

const metaOf = (t: AnyTensor): TensorMeta => ({ dtype: t.type, dims: t.dims });

function constantValue(ctx: KernelContext): AnyTensor {
  const a = ctx.attrs;
  const t = a.tensor('value');
  if (t) return t;
  if (a.has('sparse_value')) return fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': Constant sparse_value is not supported`);
  const f = a.float('value_float');
  if (f !== undefined) return new Tensor('float32', Float32Array.of(f), []);
  const fs = a.floats('value_floats');
  if (fs) return new Tensor('float32', Float32Array.from(fs), [fs.length]);
  const i = a.int('value_int');
  if (i !== undefined) return new Tensor('int64', BigInt64Array.of(BigInt(i)), []);
  const is = a.ints('value_ints');
  if (is) return new Tensor('int64', BigInt64Array.from(is, (v) => BigInt(v)), [is.length]);
  const s = a.string('value_string');
  if (s !== undefined) return new Tensor('string', [s], []);
  const ss = a.strings('value_strings');
  if (ss) return new Tensor('string', [...ss], [ss.length]);
  return fail('INVALID_GRAPH', `node '${ctx.node}': Constant has no value attribute`);
}

const constant: OpDefinition = {
  opType: 'Constant',
  inferOutputs: (_inputs, ctx) => [metaOf(constantValue(ctx))],
  reference: (_inputs, ctx) => [constantValue(ctx)],
};

// ---- ConstantOfShape

function fillOf(ctx: KernelContext): AnyTensor {
  const v = ctx.attrs.tensor('value');
  if (!v) return new Tensor('float32', Float32Array.of(0), [1]);
  if (v.size !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': ConstantOfShape value must hold one element, got ${v.size}`);
  return v;
}

function shapeOf(ctx: KernelContext): number[] {
  const shape = hostInts(ctx, 0);
  if (!shape) return fail('INVALID_GRAPH', `node '${ctx.node}': ConstantOfShape needs its shape input`);
  if (shape.some((d) => d < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': ConstantOfShape shape [${shape.join(', ')}] has a negative dim`);
  return shape;
}

const constantOfShape: OpDefinition = {
  opType: 'ConstantOfShape',
  hostInputs: [0],
  inferOutputs: (_inputs, ctx) => [{ dtype: fillOf(ctx).type, dims: shapeOf(ctx) }],
  reference(_inputs, ctx) {
    const v = fillOf(ctx);
    const cells: { readonly [i: number]: number | bigint | string } = v.data;
    return [filled(v.type, shapeOf(ctx), cells[0]!)];
  },
};

// ---- Range

const RANGE_TYPES: readonly DataType[] = ['float32', 'float64', 'float16', 'int16', 'int32', 'int64'];

function rangeOf(inputs: readonly MaybeMeta[], ctx: KernelContext): { dtype: DataType; start: number; delta: number; n: number } {
  const dtype = requireInput(inputs, 0, ctx).dtype;
  requireType(requireInput(inputs, 0, ctx), RANGE_TYPES, ctx, 'start');
  const one = (slot: number, what: string): number => {
    const v = hostFloats(ctx, slot);
    if (!v || v.length !== 1) return fail('INVALID_GRAPH', `node '${ctx.node}': Range ${what} must be a scalar host value`);
    if (inputs[slot]?.dtype !== dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Range ${what} is ${inputs[slot]?.dtype}, expected ${dtype}`);
    return v[0]!;
  };
  const start = one(0, 'start');
  const limit = one(1, 'limit');
  const delta = one(2, 'delta');
  if (delta === 0) fail('INVALID_GRAPH', `node '${ctx.node}': Range delta is 0`);
  return { dtype, start, delta, n: Math.max(0, Math.ceil((limit - start) / delta)) };
}

const range: OpDefinition = {
  opType: 'Range',
  hostInputs: [0, 1, 2],
  inferOutputs: (inputs, ctx) => {
    const r = rangeOf(inputs, ctx);
    return [{ dtype: r.dtype, dims: [r.n] }];
  },
  reference(inputs, ctx) {
    const r = rangeOf(inputs.map((t) => t && metaOf(t)), ctx);
    const values = new Float64Array(r.n);
    for (let i = 0; i < r.n; i++) values[i] = r.start + i * r.delta;
    return [fromNumbers(r.dtype, [r.n], values)];
  },
};

// ---- EyeLike: depends only on the input's shape, so it folds at plan time like Shape.

function eyeMeta(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireRank(x, [2], ctx);
  const code = ctx.attrs.int('dtype');
  const dtype = code === undefined ? x.dtype : dataTypeFromOnnx(code, `node '${ctx.node}'`);
  if (dtype === 'string') fail('INVALID_GRAPH', `node '${ctx.node}': EyeLike cannot make a string tensor`);
  return { dtype, dims: x.dims };
}

function eye(inputs: readonly MaybeMeta[], ctx: KernelContext): AnyTensor[] {
  const m = eyeMeta(inputs, ctx);
  const [rows, cols] = m.dims as [number, number];
  const k = ctx.attrs.int('k', 0);
  const out = filled(m.dtype, m.dims, cellValue(m.dtype, 0));
  const cells: { [i: number]: number | bigint | string } = out.data;
  const one = cellValue(m.dtype, 1);
  for (let i = 0; i < rows; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) cells[i * cols + j] = one;
  }
  return [out];
}

const eyeLike: OpDefinition = {
  opType: 'EyeLike',
  inferOutputs: (inputs, ctx) => [eyeMeta(inputs, ctx)],
  evalFromMeta: eye,
  reference: (inputs, ctx) => eye(inputs.map((t) => t && metaOf(t)), ctx),
};

export const definitions: readonly OpDefinition[] = [constant, constantOfShape, range, eyeLike];
