// Tensor values <-> the bytes a section stores: little-endian, as ONNX raw_data; int4/uint4 two per
// byte, low nibble first. Decoding returns views into the section where alignment allows, so a
// loaded model holds its weights once.
import { Tensor, sizeOf, type AnyTensor } from '../../../core/tensor.ts';
import { allocData, type TensorData } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { STORED_DTYPES, storedByteLength, type StoredDtype } from './kiln-layout.ts';

export function tensorToBytes(t: AnyTensor, where: string): Uint8Array {
  if (t.type === 'string') return fail('UNSUPPORTED_FEATURE', `${where}: string tensors cannot be stored in a .kiln bundle`);
  if (t.type === 'int4' || t.type === 'uint4') {
    const packed = new Uint8Array(storedByteLength(t.type, t.size));
    const d = t.data as Int8Array | Uint8Array;
    for (let i = 0; i < t.size; i++) packed[i >> 1]! |= (d[i]! & 0xf) << ((i & 1) * 4);
    return packed;
  }
  const view = t.data as Exclude<TensorData, string[]>;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Exclude<TensorData, string[]>;

/** `bytes` is exactly the tensor's stored bytes (callers checked byteLength against dtype and dims). */
export function tensorFromBytes(dtype: StoredDtype, dims: readonly number[], bytes: Uint8Array): AnyTensor {
  const size = sizeOf(dims);
  if (dtype === 'int4' || dtype === 'uint4') {
    // The runtime keeps one 4-bit value per element in memory; packing is the GPU's and the file's.
    const out = allocData(dtype, size);
    for (let i = 0; i < size; i++) {
      const nibble = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
      out[i] = dtype === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
    }
    return new Tensor(dtype, out, dims);
  }
  const ctor = allocData(dtype, 0).constructor as ViewCtor;
  const elementBytes = STORED_DTYPES[dtype];
  // Sections are 64-byte aligned in the file; a caller's buffer may still start anywhere.
  const data = (bytes.byteOffset % elementBytes === 0)
    ? new ctor(bytes.buffer, bytes.byteOffset, size)
    : new ctor(bytes.slice().buffer, 0, size);
  return new Tensor(dtype, data, dims);
}
