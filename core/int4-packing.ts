// 4-bit tensors as onnxruntime-web takes them: two values per byte, low nibble first, in a
// Uint8Array (or Int8Array) of ceil(n / 2) bytes. Kiln keeps one value per element in memory
// (core/dtype.ts), so packed data is unpacked once, where a Tensor is made.

/** True when `data` holds `size` 4-bit values packed two per byte (and could not be one per element). */
export function isPackedNibbles(data: unknown, size: number): data is Uint8Array | Int8Array {
  return (data instanceof Uint8Array || data instanceof Int8Array) && size > 1 && data.length === Math.ceil(size / 2);
}

/** One value per element: int4 sign-extended into an Int8Array, uint4 into a Uint8Array. */
export function unpackNibbles(type: 'int4' | 'uint4', packed: Uint8Array | Int8Array, size: number): Int8Array | Uint8Array {
  const out = type === 'int4' ? new Int8Array(size) : new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const nibble = (packed[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    out[i] = type === 'int4' && nibble >= 8 ? nibble - 16 : nibble;
  }
  return out;
}
