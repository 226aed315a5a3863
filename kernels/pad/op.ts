import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, requireInput } from '../common/shape.ts';
import { FILL, cellValue, gatherByTables } from '../common/strided.ts';
import { hostFloats, hostInts } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { CpuKernel, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Pad, modes constant / reflect / edge / wrap. Negative pads crop. Each output axis maps its
 * index to an input index independently, so the CPU builds one table per axis and the GPU
 * computes the same per-axis map in WGSL.
 */
export type Mode = 'constant' | 'reflect' | 'edge' | 'wrap';
const MODES: readonly string[] = ['constant', 'reflect', 'edge', 'wrap'];

interface PadSpec {
  readonly mode: Mode;
  /** pads before each axis (negative crops) */
  readonly begin: number[];
  readonly end: number[];
  readonly value: number;
  /** constant_value of a string tensor */
  readonly text: string;
}

export function padSpec(x: TensorMeta, ctx: KernelContext): PadSpec {
  const rank = x.dims.length;
  const mode = ctx.attrs.string('mode', 'constant');
  if (!MODES.includes(mode)) fail('INVALID_GRAPH', `node '${ctx.node}': Pad mode '${mode}' is not one of ${MODES.join(', ')}`);
  // Pad-1: `paddings`+`value`; Pad-2: `pads`+`value`; Pad-11: inputs pads, constant_value; Pad-18: axes.
  let pads: readonly number[] | undefined;
  let value = 0;
  let text = '';
  let axes: readonly number[] | undefined;
  if (ctx.opset < 11) {
    pads = ctx.attrs.ints(ctx.opset < 2 ? 'paddings' : 'pads');
    value = ctx.attrs.float('value', 0);
  } else {
    pads = hostInts(ctx, 1);
    const v = ctx.host[2];
    if (v?.type === 'string') text = (v.data as string[])[0] ?? '';
    else value = hostFloats(ctx, 2)?.[0] ?? 0;
    axes = hostInts(ctx, 3);
  }
  if (!pads) return fail('INVALID_GRAPH', `node '${ctx.node}': Pad needs pads`);
  const list = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normalizeAxis(a, rank, ctx));
  if (pads.length !== 2 * list.length) fail('INVALID_GRAPH', `node '${ctx.node}': Pad has ${pads.length} pads for ${list.length} axes, expected ${2 * list.length}`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  list.forEach((a, i) => {
    begin[a] = pads[i]!;
    end[a] = pads[i + list.length]!;
  });
  x.dims.forEach((d, a) => {
    if (d + begin[a]! + end[a]! < 0) fail('INVALID_GRAPH', `node '${ctx.node}': Pad crops axis ${a} of size ${d} below zero`);
    if (d === 0 && mode !== 'constant' && begin[a]! + end[a]! > 0) fail('INVALID_GRAPH', `node '${ctx.node}': Pad mode '${mode}' cannot pad the empty axis ${a}`);
  });
  return { mode: mode as Mode, begin, end, value, text };
}

export const outDimsOf = (x: TensorMeta, p: PadSpec): number[] => x.dims.map((d, a) => d + p.begin[a]! + p.end[a]!);

/** Input index for (possibly out-of-range) index i of an axis of size n, or -1 for "fill". */
function mapIndex(mode: Mode, i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return i < 0 ? 0 : n - 1;
    case 'wrap': return ((i % n) + n) % n;
    case 'reflect': {
      // Reflection without repeating the edge has period 2(n-1); numpy repeats it for wide pads.
      if (n === 1) return 0;
      const p = 2 * (n - 1);
      const m = ((i % p) + p) % p;
      return m < n ? m : p - m;
    }
  }
}

function inferPad(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  return [{ dtype: x.dtype, dims: outDimsOf(x, padSpec(x, ctx)) }];
}

/** The reference: one input-offset table per output axis (mapIndex), then one gather. */
const reference: CpuKernel = (inputs, ctx): AnyTensor[] => {
    const x = inputs[0]!;
    const meta = { dtype: x.type, dims: x.dims };
    const p = padSpec(meta, ctx);
    const outDims = outDimsOf(meta, p);
    const strides = stridesOf(x.dims);
    const tables = outDims.map((len, a) => {
      const t = new Int32Array(len);
      for (let o = 0; o < len; o++) {
        const i = mapIndex(p.mode, o - p.begin[a]!, x.dims[a]!);
        t[o] = i < 0 ? FILL : i * strides[a]!;
      }
      return t;
    });
    const fill = x.type === 'string' ? p.text : cellValue(x.type, p.value);
    return [gatherByTables(x, outDims, tables, fill)];
};

export const definitions: readonly OpDefinition[] = [{ opType: 'Pad', hostInputs: [1, 2, 3], inferOutputs: inferPad, reference }];
