import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { erfc, sigmoid } from '../elementwise-unary/unary-math.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * onnxruntime's fused activations (com.microsoft), each elementwise with an optional bias along the
 * last axis: FastGelu (tanh form), BiasGelu (erf form), QuickGelu (x * sigmoid(alpha x)), BiasAdd
 * (x + bias + skip) and BiasSplitGelu (the halves of x + bias: left * Gelu(right)).
 */

const SQRT_2_OVER_PI = 0.7978845608028654;
export const geluTanh = (x: number): number => x * sigmoid(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
export const geluErf = (x: number): number => 0.5 * x * erfc(-x * Math.SQRT1_2);

export interface BiasActivationPlan {
  readonly x: TensorMeta;
  readonly out: TensorMeta;
  /** bias slot, indexed by the last axis */
  readonly bias?: number;
  /** skip slot (BiasAdd), same shape as x */
  readonly skip?: number;
  /** last-axis length of x */
  readonly channels: number;
  /** QuickGelu's alpha */
  readonly alpha: number;
}

function biasOf(inputs: readonly MaybeMeta[], slot: number, channels: number, ctx: KernelContext, optional: boolean): number | undefined {
  const m = inputs[slot];
  if (!m) {
    if (optional) return undefined;
    fail('INVALID_GRAPH', `node '${ctx.node}': required input bias (#${slot}) is missing`);
  }
  requireType(m, FLOAT_TYPES, ctx, 'bias');
  if (m.dtype !== inputs[0]!.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': bias type ${m.dtype} differs from the input type ${inputs[0]!.dtype}`);
  if (m.dims.length !== 1 || m.dims[0] !== channels) fail('INVALID_GRAPH', `node '${ctx.node}': bias must be 1-D with the input's last dimension (${channels}), got [${m.dims.join(', ')}]`);
  return slot;
}

export function biasActivationPlan(opType: string, inputs: readonly MaybeMeta[], ctx: KernelContext): BiasActivationPlan {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  const channels = x.dims.length ? x.dims[x.dims.length - 1]! : 1;
  const alpha = ctx.attrs.float('alpha', 1.702);
  switch (opType) {
    case 'FastGelu':
    case 'BiasGelu': {
      if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 1`);
      const bias = biasOf(inputs, 1, channels, ctx, opType === 'FastGelu');
      return { x, out: { dtype: x.dtype, dims: x.dims }, ...(bias !== undefined ? { bias } : {}), channels, alpha };
    }
    case 'QuickGelu':
      return { x, out: { dtype: x.dtype, dims: x.dims }, channels, alpha };
    case 'BiasAdd': {
      if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': BiasAdd input must be 3-D (N, S, C), got [${x.dims.join(', ')}]`);
      const bias = biasOf(inputs, 1, channels, ctx, false)!;
      const skip = requireInput(inputs, 2, ctx);
      requireType(skip, FLOAT_TYPES, ctx, 'skip');
      if (skip.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': skip type ${skip.dtype} differs from the input type ${x.dtype}`);
      if (skip.dims.length !== 3 || skip.dims.some((d, i) => d !== x.dims[i])) fail('INVALID_GRAPH', `node '${ctx.node}': BiasAdd skip must have the input's shape [${x.dims.join(', ')}], got [${skip.dims.join(', ')}]`);
      return { x, out: { dtype: x.dtype, dims: x.dims }, bias, skip: 2, channels, alpha };
    }
    case 'BiasSplitGelu': {
      if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': BiasSplitGelu input must be 3-D (N, S, D), got [${x.dims.join(', ')}]`);
      if (channels % 2 !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': BiasSplitGelu needs an even last dimension, got ${channels}`);
      const bias = biasOf(inputs, 1, channels, ctx, false)!;
      return { x, out: { dtype: x.dtype, dims: [x.dims[0]!, x.dims[1]!, channels / 2] }, bias, channels, alpha };
    }
    default:
      return fail('INTERNAL', `unknown bias activation ${opType}`);
  }
}

function reference(opType: string): OpDefinition['reference'] {
  return (inputs, ctx) => {
    const p = biasActivationPlan(opType, inputs.map((t) => t && metaOf(t)), ctx);
    const x = toNumbers(inputs[0]!);
    const bias = p.bias !== undefined ? toNumbers(inputs[p.bias]!) : undefined;
    const skip = p.skip !== undefined ? toNumbers(inputs[p.skip]!) : undefined;
    const n = product(p.out.dims);
    const y = new Float64Array(n);
    const c = p.channels;
    const biased = (f: number): number => x[f]! + (bias ? bias[f % c]! : 0);
    for (let f = 0; f < n; f++) {
      switch (opType) {
        case 'FastGelu': y[f] = geluTanh(biased(f)); break;
        case 'BiasGelu': y[f] = geluErf(biased(f)); break;
        case 'QuickGelu': y[f] = x[f]! * sigmoid(p.alpha * x[f]!); break;
        case 'BiasAdd': y[f] = biased(f) + skip![f]!; break;
        default: {
          // BiasSplitGelu: output (n, s, j) = left[j] * Gelu(right[j]) of the row's x + bias
          const half = c / 2;
          const base = Math.floor(f / half) * c + (f % half);
          y[f] = biased(base) * geluErf(biased(base + half));
        }
      }
    }
    return [fromNumbers(p.out.dtype, p.out.dims, y)];
  };
}

export const BIAS_ACTIVATIONS = ['FastGelu', 'BiasGelu', 'QuickGelu', 'BiasAdd', 'BiasSplitGelu'] as const;

export const definitions: readonly OpDefinition[] = BIAS_ACTIVATIONS.map((opType) => ({
  opType,
  domain: 'com.microsoft',
  inferOutputs: (inputs, ctx) => [biasActivationPlan(opType, inputs, ctx).out],
  reference: reference(opType),
}));
