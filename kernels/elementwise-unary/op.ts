import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, NUMERIC_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { CLIP_MATH, UNARY_SPECS, type UnarySpec } from './unary-math.ts';

const BITWISE_64 = new Set<DataType>(['int64', 'uint64']);

export function inferUnary(spec: UnarySpec, inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, spec.types, ctx);
  spec.mode?.(ctx);
  return [{ dtype: spec.boolOut ? 'bool' : x.dtype, dims: x.dims }];
}

function bitwiseNot64(x: AnyTensor): AnyTensor {
  if (x.type === 'uint64') return new Tensor('uint64', (x.data as BigUint64Array).map((v) => BigInt.asUintN(64, ~v)), x.dims);
  return new Tensor('int64', (x.data as BigInt64Array).map((v) => ~v), x.dims);
}

/** The reference: the table's float64 form on every element (int64 BitwiseNot through bigint). */
function definitionOf(spec: UnarySpec): OpDefinition {
  return {
    opType: spec.opType,
    ...(spec.domain ? { domain: spec.domain } : {}),
    inferOutputs: (inputs, ctx) => inferUnary(spec, inputs, ctx),
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const [out] = inferUnary(spec, [metaOf(x)], ctx);
      if (spec.opType === 'BitwiseNot' && BITWISE_64.has(x.type)) return [bitwiseNot64(x)];
      const p = spec.params?.(ctx) ?? [];
      const mode = spec.mode?.(ctx) ?? '';
      const xs = toNumbers(x);
      const ys = new Float64Array(xs.length);
      for (let i = 0; i < xs.length; i++) ys[i] = spec.cpu(xs[i]!, p, mode);
      return [fromNumbers(out!.dtype, out!.dims, ys)];
    },
  };
}

// ---- Clip: bounds from attributes (opset < 11) or optional scalar inputs ----------------------

const FLT_MAX = 3.4028234663852886e38;

export function clipAttrBounds(ctx: KernelContext): [number, number] {
  return [ctx.attrs.float('min', -FLT_MAX), ctx.attrs.float('max', FLT_MAX)];
}

function inferClip(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, ctx.opset < 12 ? FLOAT_TYPES : NUMERIC_TYPES, ctx);
  for (const slot of [1, 2]) {
    const m = inputs[slot];
    if (!m) continue;
    if (ctx.opset < 11) fail('INVALID_GRAPH', `node '${ctx.node}': Clip before opset 11 takes min/max as attributes, not inputs`);
    if (m.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Clip ${slot === 1 ? 'min' : 'max'} has type ${m.dtype}, expected ${x.dtype}`);
    if (m.dims.reduce((a, d) => a * d, 1) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Clip ${slot === 1 ? 'min' : 'max'} must be a scalar, got shape [${m.dims.join(', ')}]`);
  }
  return [{ dtype: x.dtype, dims: x.dims }];
}

const clipReference: CpuKernel = (inputs, ctx) => {
  const x = inputs[0]!;
  const [out] = inferClip(inputs.map((t) => (t ? metaOf(t) : undefined)), ctx);
  let [lo, hi] = ctx.opset < 11 ? clipAttrBounds(ctx) : [-Infinity, Infinity];
  if (inputs[1]) lo = toNumbers(inputs[1])[0]!;
  if (inputs[2]) hi = toNumbers(inputs[2])[0]!;
  const xs = toNumbers(x);
  const ys = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) ys[i] = CLIP_MATH.cpu(xs[i]!, lo, hi);
  return [fromNumbers(out!.dtype, out!.dims, ys)];
};

// onnxruntime's transformer optimizer emits com.microsoft Gelu (exact form) in exported models.
const GELU = UNARY_SPECS.find((s) => s.opType === 'Gelu')!;
export const CONTRIB_SPECS: readonly UnarySpec[] = [{ ...GELU, domain: 'com.microsoft', mode: () => 'none' }];

export const definitions: readonly OpDefinition[] = [
  ...UNARY_SPECS.map(definitionOf),
  ...CONTRIB_SPECS.map(definitionOf),
  { opType: 'Clip', inferOutputs: inferClip, reference: clipReference },
  {
    // Identity: the output is the input (a view on the GPU)
    opType: 'Identity',
    inferOutputs(inputs, ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: x.dims }];
    },
    reference: (inputs) => [inputs[0]!],
  },
];
