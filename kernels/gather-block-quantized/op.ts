import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import { elementReader } from '../common/element-reader.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * com.microsoft GatherBlockQuantized: Gather along `gather_axis` from block-quantized data, then
 * dequantize: (q - zero_point) * scale, one scale (and zero point) per `block_size` values along
 * `quantize_axis`. int4/uint4 data (one value per element in Kiln, see core/int4-packing.ts; zero
 * point 0 by default) or uint8 data in MatMulNBits' layout: `bits` 2/4/8, 8/bits values per byte
 * along the last axis, low bits first, default zero point 2^(bits-1), zero points packed alike.
 * An index outside [-dim, dim) is an error, as in onnxruntime-web (1.30).
 */

export interface GbqPlan {
  readonly out: TensorMeta;
  readonly bits: number;
  /** values per stored element: 8 / bits for uint8 data, else 1 */
  readonly components: number;
  readonly packedUint8: boolean;
  readonly gatherBlock: number;
  readonly gatherAxisDim: number;
  readonly gatherN: number;
  readonly quantizeAxisDim: number;
  readonly quantizeN: number;
  readonly blockSize: number;
  /** scales per quantize-axis row: ceil(quantizeAxisDim / blockSize) * quantizeN */
  readonly scaleFull: number;
  readonly hasZeroPoints: boolean;
  readonly gatherAxis: number;
  readonly quantizeAxis: number;
}

const DATA_TYPES = ['int4', 'uint4', 'uint8'] as const;

export function gbqPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): GbqPlan {
  const data = requireInput(inputs, 0, ctx);
  const indices = requireInput(inputs, 1, ctx);
  const scales = requireInput(inputs, 2, ctx);
  requireType(data, DATA_TYPES, ctx, 'data');
  requireType(indices, ['int32', 'int64'], ctx, 'indices');
  requireType(scales, ['float32', 'float16'], ctx, 'scales');
  const rank = data.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': data must have rank >= 1`);
  const blockSize = ctx.attrs.int('block_size', 128);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': block_size must be a power of 2 and not less than 16, got ${blockSize}`);
  const bits = ctx.attrs.int('bits', 4);
  const packedUint8 = data.dtype === 'uint8';
  if (packedUint8 ? ![2, 4, 8].includes(bits) : bits !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': bits ${bits} is not supported for ${data.dtype} data (${packedUint8 ? '2, 4 or 8' : '4'})`);
  const g = normalizeAxis(ctx.attrs.int('gather_axis', 0), rank, ctx);
  const q = normalizeAxis(ctx.attrs.int('quantize_axis', 1), rank, ctx);
  if (packedUint8 && (g !== 0 || q !== rank - 1)) fail('INVALID_GRAPH', `node '${ctx.node}': for uint8 data gather_axis must be 0 and quantize_axis the last axis, got ${g} and ${q}`);
  const components = packedUint8 ? 8 / bits : 1;
  const dims = [...data.dims.slice(0, g), ...indices.dims, ...data.dims.slice(g + 1)];
  if (components > 1) dims[dims.length - 1]! *= components;
  if (scales.dims.length !== rank) fail('INVALID_GRAPH', `node '${ctx.node}': data and scales must have the same rank, got [${data.dims.join(', ')}] and [${scales.dims.join(', ')}]`);
  const blocks = (i: number): number => (i === q ? Math.ceil((data.dims[i]! * components) / blockSize) : data.dims[i]!);
  data.dims.forEach((_, i) => {
    if (scales.dims[i] !== blocks(i)) fail('INVALID_GRAPH', `node '${ctx.node}': scales shape [${scales.dims.join(', ')}] does not match data [${data.dims.join(', ')}] with blocks of ${blockSize} along axis ${q}`);
  });
  const zp = inputs[3];
  if (zp) {
    if (zp.dtype !== data.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points type ${zp.dtype} differs from data type ${data.dtype}`);
    const want = scales.dims.map((d, i) => (components > 1 && i === q ? Math.ceil(d / components) : d));
    if (zp.dims.length !== rank || zp.dims.some((d, i) => d !== want[i])) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points shape [${zp.dims.join(', ')}] must be [${want.join(', ')}]`);
  }
  const quantizeAxisDim = data.dims[q]! * components;
  const quantizeN = product(data.dims, q + 1);
  return {
    out: { dtype: scales.dtype, dims },
    bits,
    components,
    packedUint8,
    gatherBlock: product(data.dims, g + 1) * components,
    gatherAxisDim: data.dims[g]!,
    gatherN: product(indices.dims),
    quantizeAxisDim,
    quantizeN,
    blockSize,
    scaleFull: Math.ceil(quantizeAxisDim / blockSize) * quantizeN,
    hasZeroPoints: !!zp,
    gatherAxis: g,
    quantizeAxis: q,
  };
}

/** The `bits`-wide value at logical index i of uint8 storage (low bits first). */
const subByte = (bytes: (i: number) => number, i: number, bits: number): number => {
  const per = 8 / bits;
  return (bytes(Math.floor(i / per)) >> ((i % per) * bits)) & ((1 << bits) - 1);
};

/** The zero point of scale index s: stored (packed 8 / bits per byte along each scales row for uint8 data) or the default. */
export function zeroPointReader(p: GbqPlan, zps: ((i: number) => number) | undefined): (s: number) => number {
  if (!p.packedUint8) return zps ?? (() => 0);
  if (!zps) return () => 1 << (p.bits - 1);
  if (p.bits === 8) return zps;
  const per = 8 / p.bits;
  const rowBytes = Math.ceil(p.scaleFull / per);
  return (s) => subByte(zps, Math.floor(s / p.scaleFull) * rowBytes * per + (s % p.scaleFull), p.bits);
}

const reference: OpDefinition['reference'] = (inputs, ctx) => {
  const p = gbqPlan(inputs.map((t) => t && metaOf(t)), ctx);
  // element readers: only the gathered rows of the (large) table are read
  const data = elementReader(inputs[0]!);
  const indices = elementReader(inputs[1]!);
  const scales = elementReader(inputs[2]!);
  const zeroPoint = zeroPointReader(p, inputs[3] ? elementReader(inputs[3]) : undefined);
  const n = product(p.out.dims);
  const y = new Float64Array(n);
  const qFull = p.quantizeAxisDim * p.quantizeN;
  for (let o = 0; o < n; o++) {
    const blk = Math.floor(o / p.gatherBlock);
    const m = Math.floor(blk / p.gatherN);
    let idx = indices(blk % p.gatherN);
    if (idx < -p.gatherAxisDim || idx >= p.gatherAxisDim) fail('INVALID_ARGUMENT', `node '${ctx.node}': indices element ${idx} is out of data bounds [${-p.gatherAxisDim}, ${p.gatherAxisDim - 1}]`);
    if (idx < 0) idx += p.gatherAxisDim;
    const d = (m * p.gatherAxisDim + idx) * p.gatherBlock + (o % p.gatherBlock);
    const value = p.packedUint8 && p.bits < 8 ? subByte(data, d, p.bits) : data(d);
    const x = Math.floor(d / qFull);
    const yq = Math.floor((d % qFull) / p.quantizeN);
    const s = x * p.scaleFull + Math.floor(yq / p.blockSize) * p.quantizeN + (d % p.quantizeN);
    y[o] = (value - zeroPoint(s)) * scales(s);
  }
  return [fromNumbers(p.out.dtype, p.out.dims, y)];
};

export const definitions: readonly OpDefinition[] = [
  { opType: 'GatherBlockQuantized', domain: 'com.microsoft', inferOutputs: (inputs, ctx) => [gbqPlan(inputs, ctx).out], reference },
];
