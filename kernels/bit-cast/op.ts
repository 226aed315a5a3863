import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData, dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput } from '../common/shape.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * BitCast (opset 26): each element's bits reinterpreted as the type `to` names, which must have the
 * same width (float32 <-> int32 / uint32, float64 <-> int64, bool <-> uint8...); little-endian, as
 * every WebAssembly and JS engine stores typed arrays. Bytes are copied as they are (a uint8 2 cast
 * to bool stays 2, as in onnxruntime's memcpy). Strings and the 4-bit types (stored one value per
 * byte in Kiln) have no bit pattern to reinterpret: UNSUPPORTED_FEATURE at load.
 */

const BYTES: Partial<Record<DataType, number>> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1,
};

function bitCastOutput(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  const code = ctx.attrs.int('to') ?? fail('INVALID_GRAPH', `node '${ctx.node}': BitCast needs the 'to' attribute`);
  const to = dataTypeFromOnnx(code, `node '${ctx.node}' (BitCast to)`);
  const from = BYTES[x.dtype];
  const width = BYTES[to];
  if (from === undefined || width === undefined) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': BitCast from ${x.dtype} to ${to}: Kiln stores no bit pattern for ${from === undefined ? x.dtype : to}`);
  if (from !== width) fail('INVALID_GRAPH', `node '${ctx.node}': BitCast from ${x.dtype} (${from * 8} bits) to ${to} (${width * 8} bits): the widths must match`);
  return { dtype: to, dims: x.dims };
}

const bitCast: OpDefinition = {
  opType: 'BitCast',
  inferOutputs: (inputs, ctx) => [bitCastOutput(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const x = inputs[0]!;
    const out = bitCastOutput([{ dtype: x.type, dims: x.dims }], ctx);
    const src = x.data;
    const dst = allocData(out.dtype, x.size);
    if (Array.isArray(src) || Array.isArray(dst)) return fail('INTERNAL', `node '${ctx.node}': BitCast reached a string tensor`);
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    return [new Tensor(out.dtype, dst, out.dims)];
  },
};

export const definitions: readonly OpDefinition[] = [bitCast];
