import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { allocData, dataTypeFromOnnx, type DataType } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { checkExternalLocation } from './external-location.ts';
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

/** `where` names the tensor in errors; attribute tensors (often unnamed) pass their node and attribute. */
export function tensorFromProto(p: TensorProtoMessage, external?: ExternalDataResolver, where = `tensor '${p.name ?? ''}'`): AnyTensor {
  const dtype = dataTypeFromOnnx(p.dataType ?? 0, where);
  const dims = (p.dims ?? []).map((d) => longToNumber(d, where));
  if (dims.some((d) => d < 0)) fail('INVALID_MODEL', `${where}: negative dimension in [${dims.join(', ')}]`);
  const size = declaredElementCount(dims, where);
  let raw = p.rawData && p.rawData.length > 0 ? p.rawData : undefined;
  if (p.dataLocation === 1) raw = readExternal(p, where, external);
  // Checked before anything is allocated: dims are untrusted, and a forged [65536, 65535] with one
  // value must not allocate 4e9 elements (or fail with a RangeError naming nothing).
  if (raw) {
    checkRawLength(dtype, raw.length, size, dims, where);
    return new Tensor(dtype, decodeRaw(dtype, raw, size), dims);
  }
  const source = typedSource(dtype, p);
  const expected = dtype === 'int4' || dtype === 'uint4' ? Math.ceil(size / 2) : size;
  if (source.length !== expected) {
    fail('INVALID_MODEL', `${where}: dims [${dims.join(', ')}] declare ${size} ${dtype} elements, but the tensor holds ${source.length} ${dtype.endsWith('int4') ? 'packed bytes (two values each)' : 'values'}`);
  }
  return new Tensor(dtype, decodeTyped(dtype, source, size), dims);
}

/** The product of dims, refused once it leaves the range where doubles count exactly. */
function declaredElementCount(dims: readonly number[], where: string): number {
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (!Number.isSafeInteger(n)) fail('INVALID_MODEL', `${where}: dims [${dims.join(', ')}] declare more elements than can be counted`);
  }
  return n;
}

function checkRawLength(dtype: DataType, length: number, size: number, dims: readonly number[], where: string): void {
  const declared = `dims [${dims.join(', ')}] declare ${size} ${dtype} elements`;
  if (dtype === 'int4' || dtype === 'uint4') {
    if (length !== Math.ceil(size / 2)) fail('INVALID_MODEL', `${where}: ${declared} (${Math.ceil(size / 2)} bytes), but raw data holds ${length} bytes`);
    return;
  }
  const bytes = BYTES[dtype];
  if (bytes === undefined) return fail('UNSUPPORTED_FEATURE', `${where}: raw data of type ${dtype}`);
  // Divide rather than multiply: size * bytes may leave the safe-integer range.
  if (length % bytes !== 0 || length / bytes !== size) fail('INVALID_MODEL', `${where}: ${declared}, but raw data holds ${length} bytes (${length / bytes} elements)`);
}

/** External offsets and lengths are decimal byte counts; anything else ('1e3', '-1', '') is refused. */
function byteCount(text: string, key: string, location: string, where: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(n) ? n : fail('INVALID_MODEL', `${where}: external data '${location}' has ${key} '${text}', not a byte count`, { location });
}

function readExternal(p: TensorProtoMessage, where: string, external?: ExternalDataResolver): Uint8Array {
  const entries = new Map((p.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) return fail('INVALID_MODEL', `${where}: external data without a location`);
  checkExternalLocation(location, where);
  if (!external) return fail('INVALID_ARGUMENT', `${where}: stored in external file '${location}'; pass it in options.externalData`);
  const file = external(location);
  const offset = byteCount(entries.get('offset') ?? '0', 'offset', location, where);
  const length = entries.has('length') ? byteCount(entries.get('length')!, 'length', location, where) : file.length - offset;
  if (!(length >= 0 && offset + length <= file.length)) {
    fail('INVALID_MODEL', `${where}: external range ${offset}+${length} is outside '${location}' (${file.length} bytes)`);
  }
  return file.subarray(offset, offset + length);
}

/** `raw` has exactly the bytes `size` elements need (checkRawLength). */
function decodeRaw(dtype: DataType, raw: Uint8Array, size: number) {
  if (dtype === 'int4' || dtype === 'uint4') {
    const out = allocData(dtype, size);
    for (let i = 0; i < size; i++) {
      const nibble = (raw[i >> 1]! >> ((i & 1) * 4)) & 0xf;
      out[i] = dtype === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
    }
    return out;
  }
  // Copy to a fresh, aligned buffer: raw_data is a view into the model bytes at any offset.
  const copy = new Uint8Array(raw).buffer;
  const out = allocData(dtype, 0).constructor as new (b: ArrayBuffer) => ReturnType<typeof allocData>;
  return new out(copy);
}

/** The typed field ONNX keeps this dtype's values in. */
function typedSource(dtype: DataType, p: TensorProtoMessage): readonly (number | LongLike | Uint8Array)[] {
  switch (dtype) {
    case 'float32': return p.floatData ?? [];
    case 'float64': return p.doubleData ?? [];
    case 'int64': return p.int64Data ?? [];
    case 'uint32': case 'uint64': return p.uint64Data ?? [];
    case 'string': return p.stringData ?? [];
    default: return p.int32Data ?? []; // int8/16/32, uint8/16, bool, float16 bits, 4-bit packed
  }
}

/** `source` has exactly the entries `size` elements need (checked by the caller). */
function decodeTyped(dtype: DataType, source: readonly (number | LongLike | Uint8Array)[], size: number) {
  const out = allocData(dtype, size);
  const td = new TextDecoder();
  if (dtype === 'int4' || dtype === 'uint4') {
    for (let i = 0; i < size; i++) {
      const nibble = ((source[i >> 1] as number) >> ((i & 1) * 4)) & 0xf;
      out[i] = dtype === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
    }
    return out;
  }
  for (let i = 0; i < size; i++) {
    const v = source[i]!;
    if (dtype === 'string') (out as string[])[i] = td.decode(v as Uint8Array);
    else if (dtype === 'int64' || dtype === 'uint64') (out as BigInt64Array)[i] = longToBigInt(v as LongLike, dtype === 'uint64');
    else if (dtype === 'uint32') (out as Uint32Array)[i] = Number(longToBigInt(v as LongLike, true));
    else (out as Float32Array)[i] = v as number;
  }
  return out;
}
