import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { allocData, type DataType } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { floatToHalf, halfToFloat } from '../../../core/float16.ts';
import { packedPerWord, storageType } from '../../../kernels/webgpu/storage.ts';

const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

/**
 * writeBuffer's spec type (AllowSharedBufferSource) accepts views of SharedArrayBuffer too, but
 * @webgpu/types narrows it to ArrayBuffer; tensor data may sit in either, so widen it here once.
 */
export type GpuUpload = ArrayBufferView<ArrayBuffer>;
const asUpload = (v: ArrayBufferView): GpuUpload => v as GpuUpload;

/** Host tensor -> the 32-bit words its GPU buffer holds (see kernels/shader/storage.ts). */
export function toGpuWords(t: AnyTensor, name: string): GpuUpload {
  return asUpload(toWords(t, name));
}

function toWords(t: AnyTensor, name: string): Uint32Array | Int32Array | Float32Array {
  const st = storageType(t.type);
  if (!st) return fail('INTERNAL', `tensor '${name}' of type ${t.type} cannot live on the GPU`);
  const d = t.data;
  switch (t.type) {
    case 'float32': return d as Float32Array;
    case 'int32': return d as Int32Array;
    case 'uint32': return d as Uint32Array;
    case 'float16': return Float32Array.from(d as Uint16Array, halfToFloat);
    case 'int64': {
      const out = new Int32Array(t.size);
      const src = d as BigInt64Array;
      for (let i = 0; i < out.length; i++) {
        const v = src[i]!;
        if (v < I32_MIN || v > I32_MAX) fail('DEVICE_LIMIT', `int64 tensor '${name}' holds ${v}, outside the 32-bit range the WebGPU backend stores int64 in`);
        out[i] = Number(v);
      }
      return out;
    }
    default:
      return st === 'i32' ? Int32Array.from(d as Int8Array) : Uint32Array.from(d as Uint8Array);
  }
}

/** 8-bit or 4-bit values packed little-endian into u32 words (see packedReader in the builder). */
export function toPackedWords(t: AnyTensor): GpuUpload {
  const perWord = packedPerWord(t.type);
  if (!perWord) return fail('INTERNAL', `${t.type} tensors are not packed`);
  const bits = 32 / perWord;
  const mask = (1 << bits) - 1;
  const src = t.data as Int8Array | Uint8Array;
  const out = new Uint32Array(Math.max(1, Math.ceil(t.size / perWord)));
  for (let i = 0; i < t.size; i++) out[(i / perWord) | 0]! |= (src[i]! & mask) << ((i % perWord) * bits);
  return asUpload(out);
}

/** GPU buffer words -> a host tensor of the planned type. */
export function fromGpuWords(dtype: DataType, dims: readonly number[], bytes: ArrayBuffer, size: number): AnyTensor {
  switch (dtype) {
    case 'float32': return new Tensor('float32', new Float32Array(bytes, 0, size).slice(), dims);
    case 'int32': return new Tensor('int32', new Int32Array(bytes, 0, size).slice(), dims);
    case 'uint32': return new Tensor('uint32', new Uint32Array(bytes, 0, size).slice(), dims);
    case 'float16': return new Tensor('float16', Uint16Array.from(new Float32Array(bytes, 0, size), floatToHalf), dims);
    case 'int64': return new Tensor('int64', BigInt64Array.from(new Int32Array(bytes, 0, size), (v) => BigInt(v)), dims);
    default: {
      const st = storageType(dtype);
      if (!st) return fail('INTERNAL', `type ${dtype} cannot come from the GPU`);
      const src = st === 'i32' ? new Int32Array(bytes, 0, size) : new Uint32Array(bytes, 0, size);
      const out = allocData(dtype, size) as Uint8Array;
      for (let i = 0; i < size; i++) out[i] = src[i]!;
      return new Tensor(dtype, out, dims);
    }
  }
}
