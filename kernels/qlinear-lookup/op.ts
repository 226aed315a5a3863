import { fail } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { requireInput } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * kiln.QLinearLookup(x, table): y[i] = table[x[i] - min(x's type)], x uint8 or int8, the table 256
 * entries of the output type: uint8, int8, or float32 (DequantizeLinear -> activation whose result
 * stays float). For a float32 table the pass may add a third input, the 256 dequantized inputs,
 * and copy the activation's attributes with `kiln_folded` = its op type: a backend whose kernel for
 * that activation computes differently from the reference (the wasm backend's float32 steps)
 * rebuilds the table from them with that kernel, so its answers stay those of its separate ops. Written by runtime/graph/passes/qdq-lookup-table.ts for
 * DequantizeLinear -> unary activation -> QuantizeLinear on 8 bits: the table holds, for each of the
 * 256 inputs, what the three ops' references give, so the answers are those of the separate ops
 * (onnxruntime's QLinearSigmoid / QLinearLeakyRelu are such tables too).
 */
const EIGHT_BIT = ['uint8', 'int8'] as const;
type EightBit = (typeof EIGHT_BIT)[number];
const isEightBit = (t: string): t is EightBit => (EIGHT_BIT as readonly string[]).includes(t);

/** the index offset of x's type: table[x - lowest] */
export const lookupBase = (xType: string): number => (xType === 'int8' ? -128 : 0);

export function planLookup(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  const table = requireInput(inputs, 1, ctx);
  if (!isEightBit(x.dtype)) fail('INVALID_GRAPH', `node '${ctx.node}': QLinearLookup x must be uint8 or int8, got ${x.dtype}`);
  if (!isEightBit(table.dtype) && table.dtype !== 'float32') fail('INVALID_GRAPH', `node '${ctx.node}': QLinearLookup table must be uint8, int8 or float32, got ${table.dtype}`);
  if (table.dims.length !== 1 || table.dims[0] !== 256) fail('INVALID_GRAPH', `node '${ctx.node}': QLinearLookup table must have shape [256], got [${table.dims.join(', ')}]`);
  const dq = inputs[2];
  if (dq && (table.dtype !== 'float32' || dq.dtype !== 'float32' || dq.dims.length !== 1 || dq.dims[0] !== 256)) fail('INVALID_GRAPH', `node '${ctx.node}': QLinearLookup's dequantized inputs must be float32 [256] beside a float32 table`);
  return { dtype: table.dtype, dims: x.dims };
}

function lookupReference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const [x, table] = [inputs[0]!, inputs[1]!];
  const out = planLookup([metaOf(x), metaOf(table)], ctx);
  const base = lookupBase(x.type);
  const xs = x.data as Uint8Array | Int8Array;
  const ts = table.data as Uint8Array | Int8Array | Float32Array;
  const y = Array.from(xs, (v) => ts[v - base]!);
  if (out.dtype === 'float32') return [new Tensor('float32', Float32Array.from(y), out.dims)];
  return [out.dtype === 'int8' ? new Tensor('int8', Int8Array.from(y), out.dims) : new Tensor('uint8', Uint8Array.from(y), out.dims)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'QLinearLookup', domain: 'kiln', inferOutputs: (inputs, ctx) => [planLookup(inputs, ctx)], reference: lookupReference },
];
