import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, FLOAT_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * Normalizations. LayerNorm, InstanceNorm and GroupNorm all normalize contiguous "rows" of the
 * input (the normalized dims of one sample / channel / group) and then apply a per-element scale
 * and bias whose index is `(flat / inner) % mod`; they share one CPU and one GPU implementation.
 * BatchNorm uses stored statistics and is element-wise (LpNormalization: a norm per row).
 */

/** Where a scale/bias value comes from for flat element f: param[(f / inner) % mod]. */
export interface ParamIndex {
  readonly slot: number;
  readonly inner: number;
  readonly mod: number;
}

export interface RowNorm {
  readonly rows: number;
  readonly len: number;
  readonly epsilon: number;
  readonly scale?: ParamIndex;
  readonly bias?: ParamIndex;
}

export function requireFloat(meta: TensorMeta, ctx: KernelContext, what: string): void {
  requireType(meta, FLOAT_TYPES, ctx, what);
}

export function rowNormReference(x: AnyTensor, params: readonly MaybeTensor[], plan: RowNorm, paramMap?: (slot: number) => Int32Array | undefined): { y: Float64Array; mean: Float64Array; inv: Float64Array } {
  const xv = toNumbers(x);
  const { rows, len, epsilon } = plan;
  const y = new Float64Array(xv.length);
  const mean = new Float64Array(rows);
  const inv = new Float64Array(rows);
  const sv = plan.scale ? toNumbers(params[plan.scale.slot]!) : undefined;
  const bv = plan.bias ? toNumbers(params[plan.bias.slot]!) : undefined;
  // LayerNorm scale/bias broadcast over the normalized shape: an explicit index map per element of a row
  const sMap = plan.scale && paramMap?.(plan.scale.slot);
  const bMap = plan.bias && paramMap?.(plan.bias.slot);
  const pIdx = (p: ParamIndex, map: Int32Array | undefined, f: number, j: number): number => (map ? map[j]! : Math.floor(f / p.inner) % p.mod);
  for (let r = 0; r < rows; r++) {
    const base = r * len;
    let s = 0;
    for (let j = 0; j < len; j++) s += xv[base + j]!;
    const m = s / len;
    let q = 0;
    for (let j = 0; j < len; j++) {
      const d = xv[base + j]! - m;
      q += d * d;
    }
    const iv = 1 / Math.sqrt(q / len + epsilon);
    mean[r] = m;
    inv[r] = iv;
    for (let j = 0; j < len; j++) {
      const f = base + j;
      let v = (xv[f]! - m) * iv;
      if (sv) v *= sv[pIdx(plan.scale!, sMap, f, j)]!;
      if (bv) v += bv[pIdx(plan.bias!, bMap, f, j)]!;
      y[f] = v;
    }
  }
  return { y, mean, inv };
}

// ---------------------------------------------------------------- LayerNormalization

export interface LayerNormSetup {
  readonly x: TensorMeta;
  readonly axis: number;
  readonly plan: RowNorm;
  readonly outs: TensorMeta[];
}

export function layerNormSetup(inputs: readonly MaybeMeta[], ctx: KernelContext): LayerNormSetup {
  const x = requireInput(inputs, 0, ctx);
  const scale = requireInput(inputs, 1, ctx);
  requireFloat(x, ctx, 'X');
  requireFloat(scale, ctx, 'Scale');
  const rank = x.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': LayerNormalization needs an input of rank >= 1, got a scalar`);
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), rank, ctx);
  const norm = x.dims.slice(axis);
  const len = product(norm);
  const check = (m: TensorMeta, what: string): ParamIndex => {
    // unidirectional broadcast to the normalized shape
    const ok = m.dims.length <= norm.length && m.dims.every((d, i) => d === 1 || d === norm[norm.length - m.dims.length + i]);
    if (!ok) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} shape [${m.dims.join(', ')}] does not broadcast to the normalized shape [${norm.join(', ')}]`);
    return { slot: what === 'Scale' ? 1 : 2, inner: 1, mod: product(m.dims) };
  };
  const bias = inputs[2];
  if (bias) requireFloat(bias, ctx, 'B');
  const statDims = x.dims.map((d, i) => (i < axis ? d : 1));
  const stash = ctx.attrs.int('stash_type', 1);
  if (stash !== 1) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': LayerNormalization stash_type ${stash} is not supported (only 1, float32)`);
  return {
    x,
    axis,
    plan: { rows: len === 0 ? 0 : product(x.dims) / len, len, epsilon: ctx.attrs.float('epsilon', 1e-5), scale: check(scale, 'Scale'), ...(bias ? { bias: check(bias, 'B') } : {}) },
    outs: [
      { dtype: x.dtype, dims: x.dims },
      { dtype: 'float32', dims: statDims },
      { dtype: 'float32', dims: statDims },
    ],
  };
}

// ---------------------------------------------------------------- InstanceNormalization, GroupNormalization

export function channelsOf(x: TensorMeta, ctx: KernelContext, op: string): { n: number; c: number; spatial: number } {
  if (x.dims.length < 2) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs an input of rank >= 2 (N, C, ...), got rank ${x.dims.length}`);
  return { n: x.dims[0]!, c: x.dims[1]!, spatial: product(x.dims, 2) };
}

export function requireParam(inputs: readonly MaybeMeta[], slot: number, size: number, ctx: KernelContext, what: string): TensorMeta {
  const m = requireInput(inputs, slot, ctx);
  requireFloat(m, ctx, what);
  if (m.dims.length !== 1 || m.dims[0] !== size) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must have shape [${size}], got [${m.dims.join(', ')}]`);
  return m;
}

export function instanceNormPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): RowNorm {
  const x = requireInput(inputs, 0, ctx);
  requireFloat(x, ctx, 'input');
  const { n, c, spatial } = channelsOf(x, ctx, 'InstanceNormalization');
  requireParam(inputs, 1, c, ctx, 'scale');
  requireParam(inputs, 2, c, ctx, 'B');
  const p = (slot: number): ParamIndex => ({ slot, inner: spatial, mod: c });
  return { rows: n * c, len: spatial, epsilon: ctx.attrs.float('epsilon', 1e-5), scale: p(1), bias: p(2) };
}

export function groupNormPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): RowNorm {
  const x = requireInput(inputs, 0, ctx);
  requireFloat(x, ctx, 'X');
  const { n, c, spatial } = channelsOf(x, ctx, 'GroupNormalization');
  const g = ctx.attrs.int('num_groups');
  if (g === undefined || g <= 0 || c % g !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': num_groups ${g} must be a positive divisor of the channel count ${c}`);
  // opset 18 has one scale/bias per group, opset 21 one per channel; accept either size
  const scale = requireInput(inputs, 1, ctx);
  const size = scale.dims.length === 1 && scale.dims[0] === g && g !== c ? g : c;
  requireParam(inputs, 1, size, ctx, 'scale');
  requireParam(inputs, 2, size, ctx, 'bias');
  const p = (slot: number): ParamIndex => (size === c ? { slot, inner: spatial, mod: c } : { slot, inner: (c / g) * spatial, mod: g });
  return { rows: n * g, len: (c / g) * spatial, epsilon: ctx.attrs.float('epsilon', 1e-5), scale: p(1), bias: p(2) };
}

// ---------------------------------------------------------------- BatchNormalization

export interface BatchNormSetup {
  readonly x: TensorMeta;
  readonly c: number;
  /** params are indexed by (flat / inner) % mod: per channel, or per element of C x D1 x ... when spatial = 0 */
  readonly inner: number;
  readonly mod: number;
  readonly training: boolean;
  readonly outs: TensorMeta[];
}

export function batchNormSetup(inputs: readonly MaybeMeta[], ctx: KernelContext): BatchNormSetup {
  const x = requireInput(inputs, 0, ctx);
  requireFloat(x, ctx, 'X');
  // A rank-1 X is [N] with one channel, as onnxruntime reads it (the ONNX shape rules leave it open).
  const { c, spatial } = x.dims.length === 1 ? { c: 1, spatial: 1 } : channelsOf(x, ctx, 'BatchNormalization');
  const perElement = ctx.opset < 9 && ctx.attrs.int('spatial', 1) === 0;
  const size = perElement ? c * spatial : c;
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  const params = names.map((what, i) => {
    const m = requireInput(inputs, i + 1, ctx);
    requireFloat(m, ctx, what);
    if (product(m.dims) !== size) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} has shape [${m.dims.join(', ')}], expected ${size} values (${perElement ? 'C x D1 x ...' : 'C'})`);
    return m;
  });
  const training = ctx.opset >= 14 && ctx.attrs.int('training_mode', 0) !== 0;
  // before opset 14, extra outputs mean training mode, whose saved statistics ONNX leaves loosely defined
  if (ctx.opset < 14 && (ctx.outputCount ?? 1) > 1) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': BatchNormalization training mode (${ctx.outputCount} outputs) before opset 14 is not supported; only inference (1 output)`);
  if (training && perElement) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': training mode with spatial = 0 is not supported`);
  const outs: TensorMeta[] = [{ dtype: x.dtype, dims: x.dims }];
  // opset 14+ training mode also outputs the updated running mean and variance
  if (training) outs.push({ dtype: params[2]!.dtype, dims: [c] }, { dtype: params[3]!.dtype, dims: [c] });
  return { x, c, inner: perElement ? 1 : spatial, mod: size, training, outs };
}

export function batchNormReference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const s = batchNormSetup(inputs.map((t) => t && metaOf(t)), ctx);
  const xv = toNumbers(inputs[0]!);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => toNumbers(inputs[i]!));
  const eps = ctx.attrs.float('epsilon', 1e-5);
  let useMean = mean!;
  let useVar = variance!;
  if (s.training) {
    // batch statistics over every axis but the channel (population variance)
    const count = xv.length / s.c;
    useMean = new Float64Array(s.c);
    useVar = new Float64Array(s.c);
    for (let f = 0; f < xv.length; f++) useMean[Math.floor(f / s.inner) % s.c] += xv[f]!;
    for (let k = 0; k < s.c; k++) useMean[k]! /= count;
    for (let f = 0; f < xv.length; f++) {
      const d = xv[f]! - useMean[Math.floor(f / s.inner) % s.c]!;
      useVar[Math.floor(f / s.inner) % s.c] += d * d;
    }
    for (let k = 0; k < s.c; k++) useVar[k]! /= count;
  }
  const y = new Float64Array(xv.length);
  for (let f = 0; f < xv.length; f++) {
    const k = Math.floor(f / s.inner) % s.mod;
    y[f] = ((xv[f]! - useMean[k]!) / Math.sqrt(useVar[k]! + eps)) * scale![k]! + bias![k]!;
  }
  const out = [fromNumbers(s.x.dtype, s.x.dims, y)];
  if (s.training) {
    const momentum = ctx.attrs.float('momentum', 0.9);
    const run = (stored: Float64Array, batch: Float64Array): Float64Array => stored.map((v, k) => v * momentum + batch[k]! * (1 - momentum));
    out.push(fromNumbers(s.outs[1]!.dtype, [s.c], run(mean!, useMean)), fromNumbers(s.outs[2]!.dtype, [s.c], run(variance!, useVar)));
  }
  return out;
}

// ---------------------------------------------------------------- LpNormalization

export function lpSetup(inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; p: number; len: number; inner: number; rows: number } {
  const x = requireInput(inputs, 0, ctx);
  requireFloat(x, ctx, 'input');
  if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': LpNormalization needs an input of rank >= 1, got a scalar`);
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), x.dims.length, ctx);
  const p = ctx.attrs.int('p', 2);
  if (p !== 1 && p !== 2) fail('INVALID_GRAPH', `node '${ctx.node}': LpNormalization p must be 1 or 2, got ${p}`);
  const len = x.dims[axis]!;
  return { x, p, len, inner: product(x.dims, axis + 1), rows: len === 0 ? 0 : product(x.dims) / len };
}

// ---------------------------------------------------------------- definitions (the CPU code is plain: float64 loops per row)

function channelNormDefinition(opType: string, planOf: (inputs: readonly MaybeMeta[], ctx: KernelContext) => RowNorm): OpDefinition {
  return {
    opType,
    inferOutputs(inputs, ctx) {
      planOf(inputs, ctx);
      const x = inputs[0]!;
      return [{ dtype: x.dtype, dims: x.dims }];
    },
    reference(inputs, ctx) {
    const x = inputs[0]!;
    const { y } = rowNormReference(x, inputs, planOf(inputs.map((t) => t && metaOf(t)), ctx));
    return [fromNumbers(x.type, x.dims, y)];
    },
  };
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'BatchNormalization', inferOutputs: (inputs, ctx) => batchNormSetup(inputs, ctx).outs, reference: batchNormReference },
  {
    opType: 'LayerNormalization',
    inferOutputs: (inputs, ctx) => layerNormSetup(inputs, ctx).outs,
    reference(inputs, ctx) {
    const { x, axis, plan, outs } = layerNormSetup(inputs.map((t) => t && metaOf(t)), ctx);
    const norm = x.dims.slice(axis);
    const { y, mean, inv } = rowNormReference(inputs[0]!, inputs, plan, (slot) => broadcastIndexMap(norm, inputs[slot]!.dims) ?? undefined);
    return [fromNumbers(x.dtype, x.dims, y), fromNumbers('float32', outs[1]!.dims, mean), fromNumbers('float32', outs[2]!.dims, inv)];
    },
  },
  channelNormDefinition('InstanceNormalization', instanceNormPlan),
  channelNormDefinition('GroupNormalization', groupNormPlan),
  {
    opType: 'LpNormalization',
    inferOutputs(inputs, ctx) {
      const { x } = lpSetup(inputs, ctx);
      return [{ dtype: x.dtype, dims: x.dims }];
    },
    reference(inputs, ctx) {
    const { x, p, len, inner, rows } = lpSetup([metaOf(inputs[0]!)], ctx);
    const xv = toNumbers(inputs[0]!);
    const y = new Float64Array(xv.length);
    for (let r = 0; r < rows; r++) {
      const base = Math.floor(r / inner) * len * inner + (r % inner);
      let acc = 0;
      for (let j = 0; j < len; j++) acc += p === 1 ? Math.abs(xv[base + j * inner]!) : xv[base + j * inner]! ** 2;
      const norm = p === 1 ? acc : Math.sqrt(acc);
      // A zero row stays zero (the ONNX reference), rather than 0/0 = NaN.
      for (let j = 0; j < len; j++) y[base + j * inner] = norm === 0 ? 0 : xv[base + j * inner]! / norm;
    }
    return [fromNumbers(x.dtype, x.dims, y)];
    },
  },
];
