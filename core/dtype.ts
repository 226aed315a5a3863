import { fail } from './errors.ts';

/** Tensor element types, named as onnxruntime-web names them. */
export type DataType =
  | 'float32'
  | 'float16'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'int4'
  | 'uint4';

export type NumericDataType = Exclude<DataType, 'string'>;

export interface TypedArrayOf {
  float32: Float32Array;
  float16: Uint16Array; // IEEE half bits, as onnxruntime-web exposes them
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  string: string[];
  int4: Int8Array; // one value per element in memory; packing happens in formats and on the GPU
  uint4: Uint8Array;
}

export type TensorData = TypedArrayOf[DataType];

/** ONNX TensorProto.DataType numbers. */
const ONNX_TYPES: Record<number, DataType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  21: 'uint4',
  22: 'int4',
};
const ONNX_TYPE_NAMES: Record<number, string> = {
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  23: 'float4e2m1',
};

export function dataTypeFromOnnx(code: number, where: string): DataType {
  const t = ONNX_TYPES[code];
  if (t === undefined) {
    const name = ONNX_TYPE_NAMES[code] ?? `#${code}`;
    return fail('UNSUPPORTED_FEATURE', `${where}: tensor element type ${name} is not supported`);
  }
  return t;
}

export function onnxTypeCode(dtype: DataType): number {
  for (const [code, t] of Object.entries(ONNX_TYPES)) if (t === dtype) return Number(code);
  return fail('INTERNAL', `no ONNX code for ${dtype}`);
}

export function allocData<T extends DataType>(dtype: T, size: number): TypedArrayOf[T];
export function allocData(dtype: DataType, size: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float16': return new Uint16Array(size);
    case 'float64': return new Float64Array(size);
    case 'int8': case 'int4': return new Int8Array(size);
    case 'uint8': case 'bool': case 'uint4': return new Uint8Array(size);
    case 'int16': return new Int16Array(size);
    case 'uint16': return new Uint16Array(size);
    case 'int32': return new Int32Array(size);
    case 'uint32': return new Uint32Array(size);
    case 'int64': return new BigInt64Array(size);
    case 'uint64': return new BigUint64Array(size);
    case 'string': return new Array<string>(size).fill('');
  }
}

/** Does `data` have the JS array type that `dtype` requires? */
export function dataMatchesType(dtype: DataType, data: unknown): boolean {
  switch (dtype) {
    case 'float32': return data instanceof Float32Array;
    case 'float16': return data instanceof Uint16Array;
    case 'float64': return data instanceof Float64Array;
    case 'int8': case 'int4': return data instanceof Int8Array;
    case 'uint8': case 'bool': case 'uint4': return data instanceof Uint8Array;
    case 'int16': return data instanceof Int16Array;
    case 'uint16': return data instanceof Uint16Array;
    case 'int32': return data instanceof Int32Array;
    case 'uint32': return data instanceof Uint32Array;
    case 'int64': return data instanceof BigInt64Array;
    case 'uint64': return data instanceof BigUint64Array;
    case 'string': return Array.isArray(data);
  }
}

export const isFloatType = (t: DataType): boolean => t === 'float32' || t === 'float16' || t === 'float64';
export const isIntegerType = (t: DataType): boolean => !isFloatType(t) && t !== 'bool' && t !== 'string';
