import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, FLOAT_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * onnxruntime's fused layer norms and ONNX's RMSNormalization. Each normalizes rows of `len`
 * values: row value v = x (+ skip, broadcast over the batch) (+ bias), then
 *   LayerNorm form:  y = (v - mean) / sqrt(var + eps) * gamma (+ beta)
 *   simplified form: y = v / sqrt(mean(v^2) + eps) * gamma          (RMS norm)
 * SkipLayerNormalization / SkipSimplifiedLayerNormalization: com.microsoft, rows are the last axis,
 * gamma/beta/bias 1-D [hidden]. SimplifiedLayerNormalization (onnxruntime registers it in the ONNX
 * domain; exporters also write com.microsoft) and RMSNormalization (opset 23): rows from `axis`,
 * scale broadcast to the normalized shape.
 */

export interface FusedNormPlan {
  readonly rows: number;
  readonly len: number;
  readonly epsilon: number;
  readonly simplified: boolean;
  /** skip slot; skip[f % skipSize] is added to x[f] (skip broadcasts over the leading dims) */
  readonly skip?: { readonly slot: number; readonly size: number };
  /** 1-D [len] bias slot */
  readonly bias?: number;
  readonly gamma: { readonly slot: number; readonly dims: readonly number[] };
  /** the shape one row spans (gamma broadcasts to it) */
  readonly normDims: readonly number[];
  /** 1-D [len] beta slot */
  readonly beta?: number;
  readonly outs: TensorMeta[];
  /** output slots: statistics per row (float32) and the pre-norm sum */
  readonly meanOut?: number;
  readonly invOut?: number;
  readonly sumOut?: number;
}

export const DEFAULT_SKIP_EPSILON = 1e-12; // onnxruntime's kDefaultSkipLayerNormEpsilon

function requireFloat(m: TensorMeta, ctx: KernelContext, what: string): void {
  requireType(m, FLOAT_TYPES, ctx, what);
}

function requireVector(inputs: readonly MaybeMeta[], slot: number, len: number, ctx: KernelContext, what: string, optional: boolean): number | undefined {
  const m = inputs[slot];
  if (!m) {
    if (optional) return undefined;
    fail('INVALID_GRAPH', `node '${ctx.node}': required input ${what} (#${slot}) is missing`);
  }
  requireFloat(m, ctx, what);
  if (m.dims.length !== 1 || m.dims[0] !== len) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must have shape [${len}] (the hidden size), got [${m.dims.join(', ')}]`);
  return slot;
}

function checkOutputCount(ctx: KernelContext, op: string, max: number): void {
  if ((ctx.outputCount ?? 1) > max) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} has at most ${max} outputs, the node declares ${ctx.outputCount}`);
}

/** SkipLayerNormalization (simplified = false) and SkipSimplifiedLayerNormalization (true). */
export function skipNormPlan(inputs: readonly MaybeMeta[], ctx: KernelContext, simplified: boolean): FusedNormPlan {
  const op = simplified ? 'SkipSimplifiedLayerNormalization' : 'SkipLayerNormalization';
  checkOutputCount(ctx, op, 4);
  const x = requireInput(inputs, 0, ctx);
  const skip = requireInput(inputs, 1, ctx);
  requireFloat(x, ctx, 'input');
  requireFloat(skip, ctx, 'skip');
  if (x.dims.length !== 2 && x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} input must have rank 2 or 3 ([batch,] sequence, hidden), got [${x.dims.join(', ')}]`);
  const len = x.dims[x.dims.length - 1]!;
  // skip: the input's shape, or (1, S, H) / (S, H) added to every batch (as onnxruntime checks it)
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  const tail = x.dims.slice(-2);
  const skipOk = same(skip.dims, x.dims) || (skip.dims.length === 3 && skip.dims[0] === 1 && same(skip.dims.slice(1), tail)) || (skip.dims.length === 2 && same(skip.dims, tail));
  if (!skipOk) fail('INVALID_GRAPH', `node '${ctx.node}': skip shape [${skip.dims.join(', ')}] must equal the input shape [${x.dims.join(', ')}], or be (1, S, H) or (S, H)`);
  const gamma = requireVector(inputs, 2, len, ctx, 'gamma', false)!;
  const beta = simplified ? undefined : requireVector(inputs, 3, len, ctx, 'beta', true);
  const bias = requireVector(inputs, simplified ? 3 : 4, len, ctx, 'bias', true);
  const epsilon = ctx.attrs.float('epsilon', DEFAULT_SKIP_EPSILON);
  if (!(epsilon >= 0)) fail('INVALID_GRAPH', `node '${ctx.node}': epsilon must be >= 0, got ${epsilon}`);
  // one type T for every tensor input, as onnxruntime's schema binds them
  for (const [slot, what] of [[1, 'skip'], [2, 'gamma'], [beta, 'beta'], [bias, 'bias']] as const) {
    const m = slot === undefined ? undefined : inputs[slot];
    if (m && m.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} type ${m.dtype} differs from the input type ${x.dtype}`);
  }
  const statDims = [...x.dims.slice(0, -1), 1];
  return {
    rows: len === 0 ? 0 : product(x.dims) / len,
    len,
    epsilon,
    simplified,
    skip: { slot: 1, size: product(skip.dims) },
    ...(bias !== undefined ? { bias } : {}),
    gamma: { slot: gamma, dims: [len] },
    normDims: [len],
    ...(beta !== undefined ? { beta } : {}),
    outs: [
      { dtype: x.dtype, dims: x.dims },
      { dtype: 'float32', dims: statDims },
      { dtype: 'float32', dims: statDims },
      { dtype: x.dtype, dims: x.dims },
    ],
    meanOut: 1,
    invOut: 2,
    sumOut: 3,
  };
}

/** SimplifiedLayerNormalization (outputs Y, inv_std_var) and RMSNormalization (Y only). */
export function rmsNormPlan(inputs: readonly MaybeMeta[], ctx: KernelContext, op: 'SimplifiedLayerNormalization' | 'RMSNormalization'): FusedNormPlan {
  checkOutputCount(ctx, op, op === 'RMSNormalization' ? 1 : 2);
  const x = requireInput(inputs, 0, ctx);
  const scale = requireInput(inputs, 1, ctx);
  requireFloat(x, ctx, 'X');
  requireFloat(scale, ctx, 'scale');
  if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs an input of rank >= 1, got a scalar`);
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), x.dims.length, ctx);
  const stash = ctx.attrs.int('stash_type', 1);
  if (stash !== 1) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': ${op} stash_type ${stash} is not supported (only 1, float32)`);
  const norm = x.dims.slice(axis);
  const fits = scale.dims.length <= norm.length && scale.dims.every((d, i) => d === 1 || d === norm[norm.length - scale.dims.length + i]);
  if (!fits) fail('INVALID_GRAPH', `node '${ctx.node}': scale shape [${scale.dims.join(', ')}] does not broadcast to the normalized shape [${norm.join(', ')}]`);
  const len = product(norm);
  // Y takes the scale's type (onnxruntime's type V; the same as X in every exported model)
  const outs: TensorMeta[] = [{ dtype: scale.dtype, dims: x.dims }];
  if (op === 'SimplifiedLayerNormalization') outs.push({ dtype: 'float32', dims: x.dims.map((d, i) => (i < axis ? d : 1)) });
  return {
    rows: len === 0 ? 0 : product(x.dims) / len,
    len,
    epsilon: ctx.attrs.float('epsilon', 1e-5),
    simplified: true,
    gamma: { slot: 1, dims: scale.dims },
    normDims: norm,
    outs,
    ...(op === 'SimplifiedLayerNormalization' ? { invOut: 1 } : {}),
  };
}

/** The plain reference: float64 per row, two passes (mean, then squared deviations). */
export function fusedNormReference(inputs: readonly MaybeTensor[], plan: FusedNormPlan): AnyTensor[] {
  const { rows, len, epsilon, simplified } = plan;
  const xv = toNumbers(inputs[0]!);
  const skip = plan.skip ? toNumbers(inputs[plan.skip.slot]!) : undefined;
  const bias = plan.bias !== undefined ? toNumbers(inputs[plan.bias]!) : undefined;
  const gamma = toNumbers(inputs[plan.gamma.slot]!);
  const gammaMap = broadcastIndexMap(plan.normDims, plan.gamma.dims);
  const beta = plan.beta !== undefined ? toNumbers(inputs[plan.beta]!) : undefined;
  const sum = new Float64Array(xv.length);
  const y = new Float64Array(xv.length);
  const means = new Float64Array(rows);
  const invs = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * len;
    let s = 0;
    for (let j = 0; j < len; j++) {
      const f = base + j;
      const v = xv[f]! + (skip ? skip[f % plan.skip!.size]! : 0) + (bias ? bias[j]! : 0);
      sum[f] = v;
      s += v;
    }
    const mean = s / len;
    const center = simplified ? 0 : mean;
    let q = 0;
    for (let j = 0; j < len; j++) q += (sum[base + j]! - center) ** 2;
    const inv = 1 / Math.sqrt(q / len + epsilon);
    means[r] = mean;
    invs[r] = inv;
    for (let j = 0; j < len; j++) {
      const g = gamma[gammaMap ? gammaMap[j]! : j]!;
      y[base + j] = (sum[base + j]! - center) * inv * g + (beta ? beta[j]! : 0);
    }
  }
  return plan.outs.map((m, i) => {
    if (i === 0) return fromNumbers(m.dtype, m.dims, y);
    if (i === plan.meanOut) return fromNumbers(m.dtype, m.dims, means);
    if (i === plan.invOut) return fromNumbers(m.dtype, m.dims, invs);
    return fromNumbers(m.dtype, m.dims, sum);
  });
}

/** gamma read at j % size is right when its non-1 dims are a suffix of the row shape (the GPU and js paths need it). */
export function gammaIsSuffix(plan: FusedNormPlan): boolean {
  const dims = [...plan.gamma.dims];
  while (dims.length && dims[0] === 1) dims.shift();
  const tail = plan.normDims.slice(plan.normDims.length - dims.length);
  return dims.length <= plan.normDims.length && dims.every((d, i) => d === tail[i]);
}

function definition(opType: string, planOf: (inputs: readonly MaybeMeta[], ctx: KernelContext) => FusedNormPlan, domain?: string): OpDefinition {
  return {
    opType,
    ...(domain ? { domain } : {}),
    inferOutputs: (inputs, ctx) => planOf(inputs, ctx).outs,
    reference: (inputs, ctx) => fusedNormReference(inputs, planOf(inputs.map((t) => t && metaOf(t)), ctx)),
  };
}

export const FUSED_NORM_PLANS: Readonly<Record<string, (inputs: readonly MaybeMeta[], ctx: KernelContext) => FusedNormPlan>> = {
  SkipLayerNormalization: (inputs, ctx) => skipNormPlan(inputs, ctx, false),
  SkipSimplifiedLayerNormalization: (inputs, ctx) => skipNormPlan(inputs, ctx, true),
  SimplifiedLayerNormalization: (inputs, ctx) => rmsNormPlan(inputs, ctx, 'SimplifiedLayerNormalization'),
  RMSNormalization: (inputs, ctx) => rmsNormPlan(inputs, ctx, 'RMSNormalization'),
};

export const definitions: readonly OpDefinition[] = [
  definition('SkipLayerNormalization', FUSED_NORM_PLANS.SkipLayerNormalization!, 'com.microsoft'),
  definition('SkipSimplifiedLayerNormalization', FUSED_NORM_PLANS.SkipSimplifiedLayerNormalization!, 'com.microsoft'),
  // onnxruntime registers SimplifiedLayerNormalization in the ONNX domain; some exporters write com.microsoft
  definition('SimplifiedLayerNormalization', FUSED_NORM_PLANS.SimplifiedLayerNormalization!),
  definition('SimplifiedLayerNormalization', FUSED_NORM_PLANS.SimplifiedLayerNormalization!, 'com.microsoft'),
  definition('RMSNormalization', FUSED_NORM_PLANS.RMSNormalization!),
];
