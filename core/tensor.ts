import { allocData, dataMatchesType, type DataType, type TensorData, type TypedArrayOf } from './dtype.ts';
import { fail } from './errors.ts';
import { isPackedNibbles, unpackNibbles } from './int4-packing.ts';

export type Dims = readonly number[];

export function sizeOf(dims: Dims): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function checkDims(dims: Dims): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) fail('INVALID_ARGUMENT', `tensor dims must be non-negative integers, got [${dims.join(', ')}]`);
  }
}

/** int4/uint4 data as onnxruntime-web holds it: ceil(n/2) bytes, two values each, low nibble first. */
type PackedNibbles<T extends DataType> = T extends 'int4' | 'uint4' ? Uint8Array | Int8Array : never;

type PlainData = readonly number[] | readonly bigint[] | readonly boolean[] | readonly string[];

function fromPlain(type: DataType, values: PlainData): TensorData {
  const out = allocData(type, values.length);
  if (type === 'string') {
    (out as string[]).splice(0, values.length, ...(values as readonly string[]).map(String));
    return out;
  }
  const wantsBig = type === 'int64' || type === 'uint64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (wantsBig) (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    else (out as Float32Array)[i] = Number(v);
  }
  return out;
}

function inferType(data: TensorData): DataType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data)) return 'string';
  return fail('INVALID_ARGUMENT', 'cannot infer a tensor type from this data');
}

/**
 * A CPU-side tensor, API-compatible with onnxruntime-web's Tensor for the common constructors:
 * `new Tensor(type, data, dims)` and `new Tensor(typedArray, dims)`.
 */
export class Tensor<T extends DataType = DataType> {
  readonly type: T;
  readonly dims: Dims;
  readonly data: TypedArrayOf[T];
  readonly size: number;

  constructor(type: T, data: TypedArrayOf[T] | PlainData | PackedNibbles<T>, dims?: Dims);
  constructor(data: TypedArrayOf[T], dims?: Dims);
  constructor(a: T | TypedArrayOf[T], b?: TypedArrayOf[T] | PlainData | PackedNibbles<T> | Dims, c?: Dims) {
    let type: DataType;
    let data: TensorData;
    let dims: Dims | undefined;
    if (typeof a === 'string') {
      type = a;
      const given = b as TensorData | PlainData | undefined;
      if (given === undefined) fail('INVALID_ARGUMENT', `Tensor('${type}', ...) needs data`);
      // onnxruntime-web's int4/uint4 tensors hold ceil(n/2) bytes, two values each: unpacked here.
      const packed = (type === 'int4' || type === 'uint4') && c !== undefined && (checkDims(c), isPackedNibbles(given, sizeOf(c)));
      data = packed ? unpackNibbles(type as 'int4' | 'uint4', given as Uint8Array, sizeOf(c!)) : dataMatchesType(type, given) ? (given as TensorData) : Array.isArray(given) ? fromPlain(type, given as PlainData) : fail('INVALID_ARGUMENT', `data for a '${type}' tensor must be a ${allocData(type, 0).constructor.name} or a plain array`);
      dims = c;
    } else {
      data = a as TensorData;
      type = inferType(data);
      dims = b as Dims | undefined;
    }
    dims ??= [data.length];
    checkDims(dims);
    const size = sizeOf(dims);
    if (size !== data.length) fail('INVALID_ARGUMENT', `tensor data has ${data.length} elements but dims [${dims.join(', ')}] need ${size}`);
    this.type = type as T;
    this.data = data as TypedArrayOf[T];
    this.dims = Object.freeze([...dims]);
    this.size = size;
  }

  /** Same as `data`; async for parity with onnxruntime-web, where GPU tensors download here. */
  async getData(): Promise<TypedArrayOf[T]> {
    return this.data;
  }

  reshape(dims: Dims): Tensor<T> {
    return new Tensor(this.type, this.data, dims);
  }

  /** Host tensors hold no GPU memory; present for API parity. */
  dispose(): void {}
}

export type AnyTensor = Tensor<DataType>;
