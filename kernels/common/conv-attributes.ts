import { fail } from '../../core/errors.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import { FLOAT_TYPES, requireInput, requireType } from './shape.ts';

/**
 * Conv and ConvTranspose geometry: attributes parsed and checked once, pads resolved from auto_pad
 * or output_shape, output dims computed. Both the CPU path and the WGSL generator read this.
 */
export interface ConvGeometry {
  readonly transpose: boolean;
  readonly batch: number;
  readonly group: number;
  /** input and output channels per group */
  readonly cinG: number;
  readonly coutG: number;
  readonly inDims: readonly number[];
  readonly outDims: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** leading pads; for ConvTranspose the pads of the transposed (gather) formulation */
  readonly padBegin: readonly number[];
  readonly hasBias: boolean;
}

function intsAttr(ctx: KernelContext, name: string, n: number, fallback: number): number[] {
  const v = ctx.attrs.ints(name);
  if (v === undefined || v.length === 0) return new Array<number>(n).fill(fallback);
  if (v.length !== n) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has ${v.length} values, expected ${n}`);
  return [...v];
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

/** Splits a total padding between begin and end; SAME_UPPER puts the odd one at the end. */
function splitPad(total: number, upper: boolean): number {
  return upper ? Math.floor(total / 2) : total - Math.floor(total / 2);
}

export function convGeometry(inputs: readonly MaybeMeta[], ctx: KernelContext, transpose: boolean): { geo: ConvGeometry; out: TensorMeta } {
  const op = transpose ? 'ConvTranspose' : 'Conv';
  const x = requireInput(inputs, 0, ctx);
  const w = requireInput(inputs, 1, ctx);
  const bias = inputs[2];
  requireType(x, FLOAT_TYPES, ctx, 'X');
  if (w.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': W has type ${w.dtype}, expected ${x.dtype} like X`);
  const rank = x.dims.length;
  if (rank < 3) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs X of rank >= 3 (N, C, D1, ...), got ${dimsText(x.dims)}`);
  if (w.dims.length !== rank) fail('INVALID_GRAPH', `node '${ctx.node}': W has shape ${dimsText(w.dims)}, expected rank ${rank} like X ${dimsText(x.dims)}`);
  const s = rank - 2;
  const group = ctx.attrs.int('group', 1);
  const cin = x.dims[1]!;
  if (group < 1 || cin % group !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': group ${group} does not divide the ${cin} input channels`);
  let cout: number;
  if (transpose) {
    if (w.dims[0] !== cin) fail('INVALID_GRAPH', `node '${ctx.node}': W has shape ${dimsText(w.dims)}, expected ${cin} (input channels) in dim 0`);
    cout = w.dims[1]! * group;
  } else {
    if (w.dims[1]! * group !== cin) fail('INVALID_GRAPH', `node '${ctx.node}': W has shape ${dimsText(w.dims)}, expected ${cin / group} (input channels / group) in dim 1`);
    cout = w.dims[0]!;
    if (cout % group !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': group ${group} does not divide the ${cout} output channels`);
  }
  if (bias) {
    requireType(bias, [x.dtype], ctx, 'B');
    if (bias.dims.length !== 1 || bias.dims[0] !== cout) fail('INVALID_GRAPH', `node '${ctx.node}': B has shape ${dimsText(bias.dims)}, expected [${cout}]`);
  }
  const kernel = w.dims.slice(2);
  const kAttr = ctx.attrs.ints('kernel_shape');
  if (kAttr && kAttr.length > 0 && (kAttr.length !== s || kAttr.some((k, i) => k !== kernel[i]))) {
    fail('INVALID_GRAPH', `node '${ctx.node}': kernel_shape ${dimsText(kAttr)} does not match W's spatial dims ${dimsText(kernel)}`);
  }
  const strides = intsAttr(ctx, 'strides', s, 1);
  const dilations = intsAttr(ctx, 'dilations', s, 1);
  const pads = intsAttr(ctx, 'pads', 2 * s, 0);
  if ([...strides, ...dilations].some((v) => v < 1)) fail('INVALID_GRAPH', `node '${ctx.node}': strides and dilations must be >= 1`);
  if (pads.some((p) => p < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': pads ${dimsText(pads)} must be >= 0`);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) fail('INVALID_GRAPH', `node '${ctx.node}': auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
  const inDims = x.dims.slice(2);
  const effK = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  const padBegin = pads.slice(0, s);
  let outDims: number[];
  if (!transpose) {
    outDims = inDims.map((inD, i) => {
      const st = strides[i]!;
      if (same) {
        const out = Math.ceil(inD / st);
        padBegin[i] = splitPad(Math.max(0, (out - 1) * st + effK[i]! - inD), autoPad === 'SAME_UPPER');
        return out;
      }
      if (autoPad === 'VALID') padBegin[i] = pads[s + i] = 0;
      const span = inD + padBegin[i]! + pads[s + i]! - effK[i]!;
      if (span < 0) fail('INVALID_GRAPH', `node '${ctx.node}': the kernel (${effK[i]} with dilation) is larger than the padded input (${inD + padBegin[i]! + pads[s + i]!}) on spatial axis ${i}`);
      return Math.floor(span / st) + 1;
    });
  } else {
    const outPad = intsAttr(ctx, 'output_padding', s, 0);
    if (outPad.some((p, i) => p < 0 || (p >= strides[i]! && p >= dilations[i]!))) {
      fail('INVALID_GRAPH', `node '${ctx.node}': output_padding ${dimsText(outPad)} must be >= 0 and smaller than the stride or dilation`);
    }
    const shapeAttr = ctx.attrs.ints('output_shape');
    // output_shape may list all dims (N, C, ...) or only the spatial ones
    const outShape = shapeAttr && shapeAttr.length > 0 ? shapeAttr.slice(shapeAttr.length === rank ? 2 : 0) : undefined;
    if (outShape && outShape.length !== s) fail('INVALID_GRAPH', `node '${ctx.node}': output_shape ${dimsText(shapeAttr!)} has ${shapeAttr!.length} values, expected ${s}`);
    const full = inDims.map((inD, i) => strides[i]! * (inD - 1) + outPad[i]! + effK[i]!);
    outDims = inDims.map((inD, i) => {
      const target = outShape ? outShape[i]! : same ? inD * strides[i]! : undefined;
      if (target !== undefined) {
        // ONNX: pads derived from the total padding; only the leading one matters for gathering
        padBegin[i] = splitPad(full[i]! - target, autoPad === 'SAME_UPPER');
        return target;
      }
      if (autoPad === 'VALID') padBegin[i] = pads[s + i] = 0;
      return full[i]! - padBegin[i]! - pads[s + i]!;
    });
    if (outDims.some((d) => d < 1)) fail('INVALID_GRAPH', `node '${ctx.node}': ConvTranspose output spatial dims ${dimsText(outDims)} must be >= 1`);
  }
  const geo: ConvGeometry = {
    transpose,
    batch: x.dims[0]!,
    group,
    cinG: cin / group,
    coutG: cout / group,
    inDims,
    outDims,
    kernel,
    strides,
    dilations,
    padBegin,
    hasBias: bias !== undefined,
  };
  return { geo, out: { dtype: x.dtype, dims: [x.dims[0]!, cout, ...outDims] } };
}

/** Whether every kernel tap of every output lands inside the input (no bounds checks needed). */
export function tapsAlwaysInside(g: ConvGeometry): boolean {
  if (g.transpose) return false;
  return g.padBegin.every((p, i) => p === 0 && (g.outDims[i]! - 1) * g.strides[i]! + (g.kernel[i]! - 1) * g.dilations[i]! < g.inDims[i]!);
}
