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

  /**
   * A tensor whose data stays in a WebGPU buffer, as onnxruntime-web's Tensor.fromGpuBuffer. Feeding
   * it to a WebGPU session of the same GPUDevice binds the buffer directly (no copy, no readback).
   * Kiln stores every element as one 32-bit word on the GPU, so a buffer made outside Kiln can hold
   * float32, int32 or uint32 only (sessions' own gpu-buffer outputs may be of any type they store).
   * `download` serves getData(); `dispose` runs once, at dispose().
   */
  static fromGpuBuffer<T extends GpuBufferDataType>(buffer: GpuBuffer, options: GpuBufferTensorOptions<T>): Tensor<T> {
    if (!options || !(GPU_BUFFER_TYPES as readonly string[]).includes(options.dataType)) {
      fail('INVALID_ARGUMENT', `Tensor.fromGpuBuffer: dataType must be one of ${GPU_BUFFER_TYPES.join(', ')} (Kiln stores every GPU element as a 32-bit word), got ${String(options?.dataType)}`);
    }
    return gpuBufferTensor(buffer, options);
  }

  /** 'cpu' for host data, 'gpu-buffer' for data in a GPUBuffer, 'none' once a GPU tensor is disposed (onnxruntime-web's names). */
  get location(): TensorLocation {
    const g = gpuStates.get(this);
    return !g ? 'cpu' : g.disposed ? 'none' : 'gpu-buffer';
  }

  /** the GPUBuffer of a 'gpu-buffer' tensor */
  get gpuBuffer(): GpuBuffer {
    const g = gpuStates.get(this);
    if (!g) return fail('INVALID_ARGUMENT', 'this tensor holds its data on the CPU; it has no gpuBuffer');
    if (g.disposed) return fail('RELEASED', 'this GPU tensor was disposed');
    return g.buffer;
  }

  /** The data; a 'gpu-buffer' tensor downloads it here (once; later calls return the same array). */
  async getData(releaseData?: boolean): Promise<TypedArrayOf[T]> {
    const g = gpuStates.get(this);
    if (!g) return this.data;
    if (g.disposed) return fail('RELEASED', 'this GPU tensor was disposed; its data is gone');
    if (!g.downloaded) {
      if (!g.download) return fail('INVALID_ARGUMENT', 'this gpu-buffer tensor was made without a download function, so getData() cannot read it');
      const data = (await g.download()) as TensorData;
      if (data.length !== this.size) fail('INVALID_ARGUMENT', `download() gave ${data.length} elements for a tensor of ${this.size}`);
      g.downloaded = data;
    }
    const data = g.downloaded as TypedArrayOf[T];
    if (releaseData) this.dispose();
    return data;
  }

  reshape(dims: Dims): Tensor<T> {
    const g = gpuStates.get(this);
    if (!g) return new Tensor(this.type, this.data, dims);
    if (sizeOf(dims) !== this.size) fail('INVALID_ARGUMENT', `cannot reshape ${this.size} elements to [${dims.join(', ')}]`);
    // The view shares the buffer but not its ownership: disposing the original frees it.
    // The stored download gives this tensor's type: it was checked when the tensor was made.
    const download = g.download as (() => Promise<TypedArrayOf[T]>) | undefined;
    return gpuBufferTensor(this.gpuBuffer, { dataType: this.type, dims, ...(download ? { download } : {}) }, true);
  }

  /** Frees a 'gpu-buffer' tensor's buffer (its dispose function); host tensors hold no GPU memory. */
  dispose(): void {
    const g = gpuStates.get(this);
    if (!g || g.disposed) return;
    g.disposed = true;
    g.dispose?.();
  }
}

export type TensorLocation = 'cpu' | 'gpu-buffer' | 'none';

/**
 * WebGPU's GPUBuffer and GPUDevice where the program has their types (@webgpu/types, or a lib with
 * WebGPU); otherwise the members Kiln reads, so Kiln's declarations need no @webgpu/types (as
 * onnxruntime-common's GpuBufferType).
 */
export type GpuBuffer = typeof globalThis extends { GPUBuffer: { prototype: infer B } } ? B : { readonly size: number; readonly usage: number; destroy(): void };
export type GpuDevice = typeof globalThis extends { GPUDevice: { prototype: infer D } } ? D : { createBuffer(descriptor: { size: number; usage: number }): GpuBuffer };

/** the types a GPU buffer made outside Kiln may hold: Kiln's GPU layout is one 32-bit word per element */
export const GPU_BUFFER_TYPES = ['float32', 'int32', 'uint32'] as const;
export type GpuBufferDataType = (typeof GPU_BUFFER_TYPES)[number];

export interface GpuBufferTensorOptions<T extends DataType> {
  readonly dataType: T;
  readonly dims: Dims;
  /** reads the buffer back; getData() calls it */
  readonly download?: () => Promise<TypedArrayOf[T]>;
  /** frees the buffer; dispose() calls it once */
  readonly dispose?: () => void;
}

interface GpuState {
  readonly buffer: GpuBuffer;
  readonly download: (() => Promise<TensorData>) | undefined;
  readonly dispose: (() => void) | undefined;
  disposed: boolean;
  downloaded?: TensorData;
}

/** GPU tensors' state, kept off the instance so host tensors compare (deepEqual) and clone as before. */
const gpuStates = new WeakMap<object, GpuState>();

/** Bytes of Kiln's GPU layout (one 32-bit word per element) a tensor of these dims needs. */
export const gpuBytesFor = (dims: Dims): number => sizeOf(dims) * 4;

/**
 * A 'gpu-buffer' tensor of any type, in Kiln's GPU layout: what backends hand out. Users reach it
 * through Tensor.fromGpuBuffer, which limits the types to those whose layout is the natural one.
 */
export function gpuBufferTensor<T extends DataType>(buffer: GpuBuffer, options: GpuBufferTensorOptions<T>, view = false): Tensor<T> {
  const { dataType, dims } = options;
  if (typeof buffer !== 'object' || buffer === null || typeof buffer.size !== 'number' || typeof buffer.usage !== 'number') fail('INVALID_ARGUMENT', 'Tensor.fromGpuBuffer needs a GPUBuffer');
  if (!Array.isArray(dims)) fail('INVALID_ARGUMENT', 'Tensor.fromGpuBuffer: dims must be an array');
  checkDims(dims);
  const need = gpuBytesFor(dims);
  if (buffer.size < need) fail('INVALID_ARGUMENT', `Tensor.fromGpuBuffer: a ${dataType} tensor of dims [${dims.join(', ')}] needs ${need} bytes, the buffer has ${buffer.size}`);
  // The instance is built without the constructor, which needs host data; `data` becomes a getter
  // that says where the data is instead of handing out an empty or stale array.
  const t = Object.create(Tensor.prototype) as Tensor<T>;
  Object.defineProperties(t, {
    type: { value: dataType, enumerable: true },
    dims: { value: Object.freeze([...dims]), enumerable: true },
    size: { value: sizeOf(dims), enumerable: true },
    data: {
      enumerable: true,
      get(): TensorData {
        const g = gpuStates.get(t)!;
        if (g.downloaded) return g.downloaded;
        return fail(g.disposed ? 'RELEASED' : 'INVALID_ARGUMENT', g.disposed ? 'this GPU tensor was disposed' : "this tensor's data is in a GPU buffer (location 'gpu-buffer'): await tensor.getData() to download it");
      },
    },
  });
  gpuStates.set(t, { buffer, download: options.download as (() => Promise<TensorData>) | undefined, dispose: view ? undefined : options.dispose, disposed: false });
  return t;
}

export type AnyTensor = Tensor<DataType>;
