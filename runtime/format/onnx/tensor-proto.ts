import { Tensor, sizeOf, type AnyTensor } from '../../../core/tensor.ts';
import { allocData, dataTypeFromOnnx, type DataType } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { longToBigInt, longToNumber, type LongLike } from './long.ts';

/** The decoded shape of onnx.TensorProto as protobufjs returns it. */
export interface TensorProtoMessage {
  dims?: LongLike[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: LongLike[];
  name?: string;
  rawData?: Uint8Array;
  doubleData?: number[];
  uint64Data?: LongLike[];
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
}

/** Resolves an external-data file name (relative to the model) to its bytes. */
export type ExternalDataResolver = (location: string) => Uint8Array;

const BYTES: Partial<Record<DataType, number>> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2,
  int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1,
};

export function tensorFromProto(p: TensorProtoMessage, external?: ExternalDataResolver): AnyTensor {
  const where = `tensor '${p.name ?? ''}'`;
  const dtype = dataTypeFromOnnx(p.dataType ?? 0, where);
  const dims = (p.dims ?? []).map((d) => longToNumber(d, where));
  if (dims.some((d) => d < 0)) fail('INVALID_MODEL', `${where}: negative dimension in [${dims.join(', ')}]`);
  const size = sizeOf(dims);
  let raw = p.rawData && p.rawData.length > 0 ? p.rawData : undefined;
  if (p.dataLocation === 1) raw = readExternal(p, where, external);
  if (raw) return new Tensor(dtype, decodeRaw(dtype, raw, size, where), dims);
  return new Tensor(dtype, decodeTyped(dtype, p, size, where), dims);
}

function readExternal(p: TensorProtoMessage, where: string, external?: ExternalDataResolver): Uint8Array {
  const entries = new Map((p.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) return fail('INVALID_MODEL', `${where}: external data without a location`);
  if (!external) return fail('INVALID_ARGUMENT', `${where}: stored in external file '${location}'; pass it in options.externalData`);
  const file = external(location);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : file.length - offset;
  if (!(offset >= 0 && length >= 0 && offset + length <= file.length)) {
    fail('INVALID_MODEL', `${where}: external range ${offset}+${length} is outside '${location}' (${file.length} bytes)`);
  }
  return file.subarray(offset, offset + length);
}

function decodeRaw(dtype: DataType, raw: Uint8Array, size: number, where: string) {
  if (dtype === 'int4' || dtype === 'uint4') {
    if (raw.length !== Math.ceil(size / 2)) fail('INVALID_MODEL', `${where}: ${raw.length} raw bytes for ${size} 4-bit values`);
    const out = allocData(dtype, size);
    for (let i = 0; i < size; i++) {
      const nibble = (raw[i >> 1]! >> ((i & 1) * 4)) & 0xf;
      out[i] = dtype === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
    }
    return out;
  }
  const bytes = BYTES[dtype];
  if (bytes === undefined) return fail('UNSUPPORTED_FEATURE', `${where}: raw data of type ${dtype}`);
  if (raw.length !== size * bytes) fail('INVALID_MODEL', `${where}: ${raw.length} raw bytes, expected ${size * bytes} for ${size} x ${dtype}`);
  // Copy to a fresh, aligned buffer: raw_data is a view into the model bytes at any offset.
  const copy = new Uint8Array(raw).buffer;
  const out = allocData(dtype, 0).constructor as new (b: ArrayBuffer) => ReturnType<typeof allocData>;
  return new out(copy);
}

function decodeTyped(dtype: DataType, p: TensorProtoMessage, size: number, where: string) {
  const out = allocData(dtype, size);
  const source = (() => {
    switch (dtype) {
      case 'float32': return p.floatData;
      case 'float64': return p.doubleData;
      case 'int64': return p.int64Data;
      case 'uint32': case 'uint64': return p.uint64Data;
      case 'string': return p.stringData;
      default: return p.int32Data; // int8/16/32, uint8/16, bool, float16 bits, 4-bit packed
    }
  })() ?? [];
  const td = new TextDecoder();
  if (dtype === 'int4' || dtype === 'uint4') {
    if (source.length !== Math.ceil(size / 2)) fail('INVALID_MODEL', `${where}: ${source.length} packed values for ${size} 4-bit elements`);
    for (let i = 0; i < size; i++) {
      const nibble = ((source[i >> 1] as number) >> ((i & 1) * 4)) & 0xf;
      out[i] = dtype === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
    }
    return out;
  }
  if (source.length !== size) fail('INVALID_MODEL', `${where}: has ${source.length} values for ${size} elements`);
  for (let i = 0; i < size; i++) {
    const v = source[i]!;
    if (dtype === 'string') (out as string[])[i] = td.decode(v as Uint8Array);
    else if (dtype === 'int64' || dtype === 'uint64') (out as BigInt64Array)[i] = longToBigInt(v as LongLike, dtype === 'uint64');
    else if (dtype === 'uint32') (out as Uint32Array)[i] = Number(longToBigInt(v as LongLike, true));
    else (out as Float32Array)[i] = v as number;
  }
  return out;
}
