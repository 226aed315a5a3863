// create()'s arguments as onnxruntime-web takes them: (source, options?) and
// (buffer, byteOffset, byteLength?, options?), the second a view of the model inside a larger buffer.
// Before, the offset was taken for options and the buffer read from byte 0: "not valid protobuf".
import { fail } from '../../core/errors.ts';
import type { ModelSource } from './model-source.ts';

export function createArguments<O extends object>(source: unknown, arg1: unknown, arg2: unknown, arg3: unknown): { source: ModelSource; options: O | undefined } {
  if (typeof arg1 !== 'number') return { source: source as ModelSource, options: arg1 as O | undefined }; // checked where they are read
  const isBuffer = source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer);
  if (!isBuffer) fail('INVALID_ARGUMENT', 'create(buffer, byteOffset, byteLength?, options?) takes an ArrayBuffer first');
  const size = source.byteLength;
  const length = typeof arg2 === 'number' ? arg2 : size - arg1;
  if (!Number.isInteger(arg1) || !Number.isInteger(length) || arg1 < 0 || length < 0 || arg1 + length > size) {
    fail('INVALID_ARGUMENT', `create(): byteOffset ${arg1} and byteLength ${length} do not lie inside the ${size}-byte buffer`);
  }
  return { source: new Uint8Array(source, arg1, length), options: (typeof arg2 === 'number' ? arg3 : arg2) as O | undefined };
}
