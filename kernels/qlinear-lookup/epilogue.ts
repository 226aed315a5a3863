import { fail } from '../../core/errors.ts';
import type { DataType } from '../../core/dtype.ts';
import type { KernelContext, MaybeMeta, MaybeTensor } from '../contract.ts';
import { lookupBase } from './op.ts';

/**
 * A kiln.QLinearLookup folded into the 8-bit op before it (QLinearConv, QLinearMatMul), by
 * runtime/graph/passes/qdq-lookup-epilogue.ts on the wasm backend: the op's requantized bytes go
 * through the 256-entry table as they are stored, instead of a second pass over the tensor. The
 * attribute (written only by that pass) says the extra input slot holds such a table; a model's
 * node with an input there and no attribute is rejected, so no table is ever applied by chance.
 */
export const LOOKUP_EPILOGUE_ATTR = 'kiln_lookup_epilogue';

/**
 * The folded table's output type, or undefined when the node has none. `slot` is the op's table
 * slot (one past its last ONNX input); `yType` the type the requantization produces.
 */
export function lookupEpilogueType(inputs: readonly MaybeMeta[], slot: number, ctx: KernelContext, yType: DataType): DataType | undefined {
  const folded = ctx.attrs.int(LOOKUP_EPILOGUE_ATTR, 0) === 1;
  const table = inputs[slot];
  if (!folded) {
    if (inputs.slice(slot).some((i) => i !== undefined)) fail('INVALID_GRAPH', `node '${ctx.node}': more than ${slot} inputs`);
    return undefined;
  }
  if (!table || (table.dtype !== 'uint8' && table.dtype !== 'int8') || table.dims.length !== 1 || table.dims[0] !== 256) {
    return fail('INVALID_GRAPH', `node '${ctx.node}': ${LOOKUP_EPILOGUE_ATTR} needs a uint8 or int8 table of shape [256] at input ${slot}`);
  }
  if (yType !== 'uint8' && yType !== 'int8') fail('INVALID_GRAPH', `node '${ctx.node}': a lookup epilogue needs 8-bit requantized values, got ${yType}`);
  return table.dtype;
}

/** Maps requantized values (of type yType) through the folded table, in place; no-op without one. */
export function applyLookupEpilogue(values: Float64Array | number[], inputs: readonly MaybeTensor[], slot: number, ctx: KernelContext, yType: DataType): void {
  if (ctx.attrs.int(LOOKUP_EPILOGUE_ATTR, 0) !== 1) return;
  const table = inputs[slot]!.data as Uint8Array | Int8Array;
  const base = lookupBase(yType);
  for (let i = 0; i < values.length; i++) values[i] = table[values[i]! - base]!;
}
