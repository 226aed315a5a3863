import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { BINARY_SPECS, BITS, isIntegral, type BinarySpec } from './binary-math.ts';

export function inferBinary(spec: BinarySpec, inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  requireType(a, spec.types, ctx, 'first input');
  requireType(b, spec.types, ctx, 'second input');
  if (!spec.mixedTypes && a.dtype !== b.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} inputs have different types (${a.dtype}, ${b.dtype})`);
  const bDims = spec.alignB ? spec.alignB(a, b, ctx) : b.dims;
  return [{ dtype: spec.comparison ? 'bool' : a.dtype, dims: broadcastShapes([a.dims, bDims], ctx) }];
}

/**
 * The reference: every numeric type through float64 (exact for float32 + - * /, which round once
 * either way), int64/uint64 through bigint where the op has an exact form, strings compared as is.
 */
function definitionOf(spec: BinarySpec): OpDefinition {
  return {
    opType: spec.opType,
    inferOutputs: (inputs, ctx) => inferBinary(spec, inputs, ctx),
    reference(inputs, ctx): AnyTensor[] {
      const a = inputs[0]!;
      const b = inputs[1]!;
      const [out] = inferBinary(spec, [metaOf(a), metaOf(b)], ctx);
      const am = broadcastIndexMap(out!.dims, a.dims);
      const bm = broadcastIndexMap(out!.dims, spec.alignB ? spec.alignB(metaOf(a), metaOf(b), ctx) : b.dims);
      const size = am?.length ?? bm?.length ?? a.size;
      const mode = spec.mode?.(ctx) ?? '';
      if (a.type === 'string') {
        const as = a.data as string[];
        const bs = b.data as string[];
        const res = new Uint8Array(size);
        for (let i = 0; i < size; i++) res[i] = +(as[am ? am[i]! : i] === bs[bm ? bm[i]! : i]);
        return [new Tensor('bool', res, out!.dims)];
      }
      if (spec.cpuBig && (a.type === 'int64' || a.type === 'uint64')) {
        const as = a.data as BigInt64Array;
        const bs = b.data as BigInt64Array;
        const res = a.type === 'int64' ? new BigInt64Array(size) : new BigUint64Array(size);
        for (let i = 0; i < size; i++) res[i] = spec.cpuBig(as[am ? am[i]! : i]!, bs[bm ? bm[i]! : i]!, mode);
        return [res instanceof BigInt64Array ? new Tensor('int64', res, out!.dims) : new Tensor('uint64', res, out!.dims)];
      }
      const av = toNumbers(a);
      const bv = toNumbers(b);
      const integer = isIntegral(a.type);
      const bits = BITS[a.type] ?? 64;
      const res = new Float64Array(size);
      for (let i = 0; i < size; i++) res[i] = spec.cpu(av[am ? am[i]! : i]!, bv[bm ? bm[i]! : i]!, integer, mode, bits);
      return [fromNumbers(out!.dtype, out!.dims, res)];
    },
  };
}

export const definitions: readonly OpDefinition[] = BINARY_SPECS.map(definitionOf);
