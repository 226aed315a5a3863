import { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { resolveDefinition } from '../definitions.ts';
import { lookupBase } from '../qlinear-lookup/op.ts';

/**
 * Squeeze-excite on 8-bit activations, written by runtime/graph/passes/qdq-excite.ts for the wasm
 * backend. A QDQ MobileNet keeps a float tensor between a quantized conv and the next
 * QuantizeLinear that is table[x] for a 256-entry float32 table (DequantizeLinear's 256 values,
 * or a float kiln.QLinearLookup's: an activation's); these ops read x and the table instead:
 *
 *   kiln.QLinearLookupGlobalAveragePool(x, table, y_scale, y_zero_point [, dequantized])
 *     = QuantizeLinear(GlobalAveragePool(table[x]), y_scale, y_zero_point)
 *   kiln.QLinearLookupMul(x, table, b, y_scale, y_zero_point [, dequantized, b_table [, b_dequantized]])
 *     = QuantizeLinear(Mul(table[x], b), y_scale, y_zero_point), b float32 (broadcast as Mul does),
 *       or with b_table 8-bit and read as b_table[b] (the excitation's own float lookup folded in:
 *       its attributes carry the prefix EXCITATION_ATTR_PREFIX)
 *
 * The reference runs the separate ops' references in that order, so its answers are theirs.
 * `dequantized` and the attributes (kiln_folded = the activation) are those of the folded
 * kiln.QLinearLookup: the wasm backend rebuilds the table with its own activation kernel, as the
 * lookup step does (kernels/qlinear-lookup/wasm.ts).
 */
export const X = 0, TABLE = 1;
export const GAP_YS = 2, GAP_YZ = 3, GAP_DQ = 4;
export const MUL_B = 2, MUL_YS = 3, MUL_YZ = 4, MUL_DQ = 5, MUL_B_TABLE = 6, MUL_B_DQ = 7;
export const EXCITATION_ATTR_PREFIX = 'kiln_excitation_';

/** the excitation lookup's attributes (EXCITATION_ATTR_PREFIX stripped) */
export function excitationAttrs(attrs: Attributes): Attributes {
  return attrs.names().filter((n) => n.startsWith(EXCITATION_ATTR_PREFIX)).reduce((a, n) => a.with(n.slice(EXCITATION_ATTR_PREFIX.length), attrs.raw(n)!), Attributes.empty());
}

function checkTable(inputs: readonly MaybeMeta[], dqSlot: number, ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, X, ctx);
  requireType(x, ['uint8', 'int8'], ctx, 'x');
  requireInput(inputs, TABLE, ctx);
  for (const [slot, name] of [[TABLE, 'table'], [dqSlot, 'dequantized']] as const) {
    const t = inputs[slot];
    if (slot === dqSlot && !t) continue;
    if (!t || t.dtype !== 'float32' || t.dims.length !== 1 || t.dims[0] !== 256) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} must be float32 of shape [256]`);
  }
  return x;
}

function checkQuant(inputs: readonly MaybeMeta[], ys: number, yz: number, ctx: KernelContext): TensorMeta['dtype'] {
  const s = requireInput(inputs, ys, ctx);
  const z = requireInput(inputs, yz, ctx);
  requireType(s, ['float32'], ctx, 'y_scale');
  requireType(z, ['uint8', 'int8'], ctx, 'y_zero_point');
  if (s.dims.reduce((a, d) => a * d, 1) !== 1 || z.dims.reduce((a, d) => a * d, 1) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': y_scale and y_zero_point must be per tensor`);
  return z.dtype;
}

function reference(op: string): OpDefinition['reference'] {
  const def = resolveDefinition('', op);
  return def ? def.reference : fail('INTERNAL', `qlinear-excite: no ${op} definition`);
}

/** table[x] as float32 */
export function gatherTable(x: AnyTensor, table: AnyTensor): AnyTensor {
  const base = lookupBase(x.type);
  const xs = x.data as Uint8Array | Int8Array;
  const ts = table.data as Float32Array;
  const y = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) y[i] = ts[xs[i]! - base]!;
  return new Tensor('float32', y, x.dims);
}

/** the separate ops' context: their default attributes (this node's are the folded activation's) */
const plain = (ctx: KernelContext): KernelContext => ({ ...ctx, attrs: Attributes.empty() });
const quantize = (v: AnyTensor, ys: MaybeTensor, yz: MaybeTensor, ctx: KernelContext): AnyTensor => reference('QuantizeLinear')([v, ys, yz], plain(ctx))[0]!;

export function planMean(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = checkTable(inputs, GAP_DQ, ctx);
  if (x.dims.length < 3) fail('INVALID_GRAPH', `node '${ctx.node}': x must have rank 3 or more, got [${x.dims.join(', ')}]`);
  return { dtype: checkQuant(inputs, GAP_YS, GAP_YZ, ctx), dims: [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)] };
}

export function planMul(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = checkTable(inputs, MUL_DQ, ctx);
  const b = requireInput(inputs, MUL_B, ctx);
  if (inputs[MUL_B_TABLE]) {
    requireType(b, ['uint8', 'int8'], ctx, 'b');
    checkTable([b, inputs[MUL_B_TABLE], inputs[MUL_B_DQ]], 2, ctx);
  } else requireType(b, ['float32'], ctx, 'b');
  const mul = resolveDefinition('', 'Mul')!.inferOutputs([{ dtype: 'float32', dims: x.dims }, { dtype: 'float32', dims: b.dims }], plain(ctx))[0]!;
  return { dtype: checkQuant(inputs, MUL_YS, MUL_YZ, ctx), dims: mul.dims };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'QLinearLookupGlobalAveragePool',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [planMean(inputs, ctx)],
    reference: (inputs, ctx) => {
      planMean(inputs.map((t) => t && metaOf(t)), ctx);
      const mean = reference('GlobalAveragePool')([gatherTable(inputs[X]!, inputs[TABLE]!)], plain(ctx))[0]!;
      return [quantize(mean, inputs[GAP_YS], inputs[GAP_YZ], ctx)];
    },
  },
  {
    opType: 'QLinearLookupMul',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [planMul(inputs, ctx)],
    reference: (inputs, ctx) => {
      planMul(inputs.map((t) => t && metaOf(t)), ctx);
      const b = inputs[MUL_B_TABLE] ? gatherTable(inputs[MUL_B]!, inputs[MUL_B_TABLE]!) : inputs[MUL_B];
      const product = reference('Mul')([gatherTable(inputs[X]!, inputs[TABLE]!), b], plain(ctx))[0]!;
      return [quantize(product, inputs[MUL_YS], inputs[MUL_YZ], ctx)];
    },
  },
];
