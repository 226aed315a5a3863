import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { sigmoid } from '../elementwise-unary/unary-math.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * CausalConvWithState (opset 27): a causal depthwise 1-D convolution that carries its left context.
 * padded = concat(past_state or zeros, input) along time, K - 1 + L long; then
 *   output[b, c, t]        = act(bias[c] + sum_j weight[c, 0, j] * padded[b, c, t + j])   t < L
 *   present_state[b, c, s] = padded[b, c, L + s]                                          s < K - 1
 * act is SiLU (x * sigmoid(x)) for 'silu' and its alias 'swish', the identity for 'none'. This is the
 * op's ONNX function body (Concat, Conv with group = C, Slice of the last K - 1 steps).
 */

export interface CausalConvPlan {
  readonly out: TensorMeta;
  readonly present: TensorMeta;
  readonly batch: number;
  readonly channels: number;
  readonly length: number;
  readonly kernel: number;
  readonly hasBias: boolean;
  readonly hasPast: boolean;
  readonly silu: boolean;
}

const ACTIVATIONS = ['none', 'silu', 'swish'];

export function causalConvPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): CausalConvPlan {
  const x = requireInput(inputs, 0, ctx);
  const w = requireInput(inputs, 1, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  requireType(w, [x.dtype], ctx, 'weight');
  if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': input must be 3-D (batch, channels, length), got [${x.dims.join(', ')}]`);
  const [batch, channels, length] = x.dims as [number, number, number];
  if (w.dims.length !== 3 || w.dims[0] !== channels || w.dims[1] !== 1 || w.dims[2]! < 1) {
    fail('INVALID_GRAPH', `node '${ctx.node}': weight must be (${channels}, 1, k) with k >= 1 (depthwise), got [${w.dims.join(', ')}]`);
  }
  const kernel = w.dims[2]!;
  const bias = inputs[2];
  if (bias) {
    requireType(bias, [x.dtype], ctx, 'bias');
    if (bias.dims.length !== 1 || bias.dims[0] !== channels) fail('INVALID_GRAPH', `node '${ctx.node}': bias must be (${channels}), got [${bias.dims.join(', ')}]`);
  }
  const past = inputs[3];
  const stateDims = [batch, channels, kernel - 1];
  if (past) {
    requireType(past, [x.dtype], ctx, 'past_state');
    if (past.dims.length !== 3 || past.dims.some((d, i) => d !== stateDims[i])) fail('INVALID_GRAPH', `node '${ctx.node}': past_state must be (${stateDims.join(', ')}), got [${past.dims.join(', ')}]`);
  }
  const activation = ctx.attrs.string('activation', 'none');
  if (!ACTIVATIONS.includes(activation)) fail('INVALID_GRAPH', `node '${ctx.node}': activation '${activation}' is not one of ${ACTIVATIONS.join(', ')}`);
  return {
    out: { dtype: x.dtype, dims: x.dims },
    present: { dtype: x.dtype, dims: stateDims },
    batch,
    channels,
    length,
    kernel,
    hasBias: bias !== undefined,
    hasPast: past !== undefined,
    silu: activation !== 'none',
  };
}

/** Declared outputs: output, and present_state unless the node leaves it out. */
export function causalConvOutputs(p: CausalConvPlan, ctx: KernelContext): TensorMeta[] {
  return [p.out, p.present].slice(0, Math.max(1, Math.min(2, ctx.outputCount ?? 2)));
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext) {
  const p = causalConvPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch: B, channels: C, length: L, kernel: K } = p;
  const x = toNumbers(inputs[0]!);
  const w = toNumbers(inputs[1]!);
  const bias = inputs[2] ? toNumbers(inputs[2]) : undefined;
  const past = inputs[3] ? toNumbers(inputs[3]) : undefined;
  const y = new Float64Array(B * C * L);
  const present = new Float64Array(B * C * (K - 1));
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      // the padded row: K - 1 steps of carried state (or zeros), then the input
      const padded = new Float64Array(K - 1 + L);
      for (let s = 0; s < K - 1; s++) padded[s] = past ? past[(b * C + c) * (K - 1) + s]! : 0;
      for (let t = 0; t < L; t++) padded[K - 1 + t] = x[(b * C + c) * L + t]!;
      for (let t = 0; t < L; t++) {
        let acc = bias ? bias[c]! : 0;
        for (let j = 0; j < K; j++) acc += w[c * K + j]! * padded[t + j]!;
        y[(b * C + c) * L + t] = p.silu ? acc * sigmoid(acc) : acc;
      }
      for (let s = 0; s < K - 1; s++) present[(b * C + c) * (K - 1) + s] = padded[L + s]!;
    }
  }
  return [fromNumbers(p.out.dtype, p.out.dims, y), fromNumbers(p.present.dtype, p.present.dims, present)].slice(0, causalConvOutputs(p, ctx).length);
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'CausalConvWithState', inferOutputs: (inputs, ctx) => causalConvOutputs(causalConvPlan(inputs, ctx), ctx), reference },
];
