import { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, TensorMeta } from '../contract.ts';
import { dequantizeReference, quantizeReference } from '../quantize-linear/op.ts';
import { qlinearAddReference } from '../qlinear-binary/op.ts';
import { broadcastShapes } from '../common/shape.ts';
import { definitions as binaryDefinitions } from '../elementwise-binary/op.ts';
import { ADD_ATTR, DQ_BIAS_ATTR, DQ_SCALE_ATTR, DQ_ZERO_POINT_ATTR, LOOKUP_ATTR, QUANTIZE_X_ATTR, RESIDUAL_SLOT } from './fused-io-attrs.ts';

/**
 * The QuantizeLinear before and the QLinearAdd / QLinearLookup / DequantizeLinear after a QLinearConv, folded
 * into it by the WebGPU-only pass runtime/graph/passes/fuse-qdq-webgpu.ts so the three or four ops
 * are one dispatch. Attributes (fused-io-attrs.ts; only that pass writes them):
 * - `kiln_quantize_x` = 1: x is the float32 input of a QuantizeLinear with this node's x_scale and
 *   x_zero_point (required), quantized as it is read;
 * - `kiln_add_params` (float32 [s, z, s_r, z_r, s_c, z_c]): a com.microsoft QLinearAdd of the
 *   requantized output (scale s, zero point z) and input RESIDUAL_SLOT (s_r, z_r) into s_c, z_c,
 *   applied first; the output takes the broadcast shape, its type stays;
 * - `kiln_lookup_table`: a 256-entry uint8/int8/float32 table applied to the requantized output
 *   (kiln.QLinearLookup: table[y - lowest of y's type]); the output takes the table's type;
 * - `kiln_dequantize_scale` (float32 scalar) and optional `kiln_dequantize_zero_point`: a
 *   DequantizeLinear of the (looked-up) 8-bit output; the output is float32;
 * - `kiln_dequantize_bias` (float32 [N], QLinearMatMul only, with the DequantizeLinear): an Add of a
 *   per-column bias to the dequantized output (a classifier head's MatMul + Add left in float).
 * The CPU form composes the ops' own references around the plain QLinearConv, so it is exact by
 * construction; the WebGPU kernel repeats each op's WGSL expression in its load and store.
 */

const addReference = binaryDefinitions.find((d) => d.opType === 'Add')!.reference;

export interface FusedIo {
  readonly quantizeX: boolean;
  /** [s, z, s_residual, z_residual, s_out, z_out] */
  readonly add?: AnyTensor;
  readonly lookup?: AnyTensor;
  readonly dequantize?: { readonly scale: AnyTensor; readonly zeroPoint?: AnyTensor };
  readonly bias?: AnyTensor;
}

export function fusedIoOf(attrs: Attributes): FusedIo {
  const scale = attrs.tensor(DQ_SCALE_ATTR);
  const zeroPoint = attrs.tensor(DQ_ZERO_POINT_ATTR);
  return {
    quantizeX: attrs.int(QUANTIZE_X_ATTR, 0) === 1,
    add: attrs.tensor(ADD_ATTR),
    lookup: attrs.tensor(LOOKUP_ATTR),
    dequantize: scale && { scale, zeroPoint },
    bias: attrs.tensor(DQ_BIAS_ATTR),
  };
}

export const hasFusedIo = (io: FusedIo): boolean => io.quantizeX || io.add !== undefined || io.lookup !== undefined || io.dequantize !== undefined || io.bias !== undefined;

/** The lowest value of an 8-bit type: lookup index = y - lowest. */
export const lowestOf = (dtype: string): number => (dtype === 'int8' ? -128 : 0);

/** The inputs as the plain QLinearConv sees them: a float x stands for the quantized x (x_zero_point's type). */
export function integerInputMetas(inputs: readonly MaybeMeta[], io: FusedIo, xSlot: number, zpSlot: number, ctx: KernelContext): MaybeMeta[] {
  if (!io.quantizeX) return [...inputs];
  const x = inputs[xSlot];
  const zp = inputs[zpSlot];
  if (!x || x.dtype !== 'float32' || !zp) fail('INVALID_GRAPH', `node '${ctx.node}': ${QUANTIZE_X_ATTR} needs a float32 x and an x_zero_point`);
  const out = [...inputs];
  out[xSlot] = { dtype: zp.dtype, dims: x.dims };
  return out;
}

/** The fused node's output meta, from the plain op's (and the folded QLinearAdd's other operand). */
export function fusedOutputMeta(plain: TensorMeta, io: FusedIo, ctx: KernelContext, residual?: MaybeMeta): TensorMeta {
  let dtype = plain.dtype;
  let dims = plain.dims;
  if (io.add) {
    if (io.add.type !== 'float32' || io.add.data.length !== 6) fail('INVALID_GRAPH', `node '${ctx.node}': ${ADD_ATTR} must be 6 float32 values`);
    if (!residual) fail('INVALID_GRAPH', `node '${ctx.node}': ${ADD_ATTR} needs input ${RESIDUAL_SLOT}`);
    if (residual.dtype !== dtype) fail('INVALID_GRAPH', `node '${ctx.node}': the folded QLinearAdd's operand is ${residual.dtype}, the output ${dtype}`);
    dims = broadcastShapes([dims, residual.dims], ctx);
  }
  if (io.lookup) {
    if (io.lookup.dims.length !== 1 || io.lookup.dims[0] !== 256) fail('INVALID_GRAPH', `node '${ctx.node}': ${LOOKUP_ATTR} must have 256 entries`);
    dtype = io.lookup.type;
  }
  if (io.dequantize) {
    if (dtype !== 'uint8' && dtype !== 'int8') fail('INVALID_GRAPH', `node '${ctx.node}': ${DQ_SCALE_ATTR} needs an 8-bit output, got ${dtype}`);
    if (io.dequantize.scale.type !== 'float32') fail('INVALID_GRAPH', `node '${ctx.node}': ${DQ_SCALE_ATTR} must be float32`);
    dtype = 'float32';
  }
  checkBias(io, dims, ctx);
  return { dtype, dims };
}

/** The folded bias: after a folded DequantizeLinear, float32, one value per output column. */
function checkBias(io: FusedIo, dims: readonly number[], ctx: KernelContext): void {
  if (!io.bias) return;
  const n = dims[dims.length - 1];
  if (!io.dequantize) fail('INVALID_GRAPH', `node '${ctx.node}': ${DQ_BIAS_ATTR} needs ${DQ_SCALE_ATTR}`);
  if (io.bias.type !== 'float32' || io.bias.dims.length !== 1 || io.bias.dims[0] !== n) fail('INVALID_GRAPH', `node '${ctx.node}': ${DQ_BIAS_ATTR} must be float32 [${n}], got ${io.bias.type} [${io.bias.dims.join(', ')}]`);
}

const plainCtx = (ctx: KernelContext): KernelContext => ({ ...ctx, attrs: Attributes.empty() });

/** Runs `plain` (the unfused QLinearConv on the CPU) between the folded ops' references. */
export function withFusedIo(plain: (inputs: readonly MaybeTensor[], ctx: KernelContext) => AnyTensor[], inputs: readonly MaybeTensor[], ctx: KernelContext, xSlot: number, xsSlot: number, zpSlot: number): AnyTensor[] {
  const io = fusedIoOf(ctx.attrs);
  if (!hasFusedIo(io)) return plain(inputs, ctx);
  fusedOutputMeta({ dtype: 'uint8', dims: [] }, { ...io, add: undefined, bias: undefined }, ctx); // checks the attributes (the add's and the bias's below, once y exists)
  const ins = [...inputs];
  if (io.quantizeX) {
    integerInputMetas(inputs.map((t) => t && metaOf(t)), io, xSlot, zpSlot, ctx);
    ins[xSlot] = quantizeReference([inputs[xSlot], inputs[xsSlot], inputs[zpSlot]], plainCtx(ctx))[0];
  }
  let y = plain(ins, ctx)[0]!;
  if (io.add) {
    const residual = inputs[RESIDUAL_SLOT];
    fusedOutputMeta(metaOf(y), io, ctx, residual && metaOf(residual));
    const [s, z, sr, zr, sc, zc] = Array.from(io.add.data as Float32Array);
    const scale = (v: number | undefined): AnyTensor => new Tensor('float32', Float32Array.of(v!), []);
    const zero = (v: number | undefined): AnyTensor => (y.type === 'int8' ? new Tensor('int8', Int8Array.of(v!), []) : new Tensor('uint8', Uint8Array.of(v!), []));
    y = qlinearAddReference([y, scale(s), zero(z), residual, scale(sr), zero(zr), scale(sc), zero(zc)], plainCtx(ctx))[0]!;
  }
  if (io.lookup) {
    const base = lowestOf(y.type);
    const table = io.lookup.data as Uint8Array | Int8Array | Float32Array;
    const values = Array.from(y.data as Uint8Array | Int8Array, (v) => table[v - base]!);
    y = io.lookup.type === 'float32' ? new Tensor('float32', Float32Array.from(values), y.dims)
      : io.lookup.type === 'int8' ? new Tensor('int8', Int8Array.from(values), y.dims) : new Tensor('uint8', Uint8Array.from(values), y.dims);
  }
  if (io.dequantize) y = dequantizeReference([y, io.dequantize.scale, io.dequantize.zeroPoint], plainCtx(ctx))[0]!;
  if (io.bias) {
    checkBias(io, y.dims, ctx);
    y = addReference([y, io.bias], plainCtx(ctx))[0]!;
  }
  return [y];
}
