// An ONNX tensor's dims are untrusted: the element count they declare is checked (overflow-safe)
// against the data actually present (raw_data bytes or the typed field's length) before anything
// is allocated, for initializers and Constant attribute tensors alike. A mismatch is INVALID_MODEL
// naming the tensor, never a multi-gigabyte allocation or a bare RangeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs/light.js';
import { KilnError } from '../../core/errors.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { onnxSchema } from '../../runtime/format/onnx/onnx-schema.ts';

const ModelProto = protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');
const FLOAT = 1;
const STRING = 8;
const INT4 = 22;

/** A model whose graph is one Identity of `x`, with `tensor` as initializer 'x' or as a Constant's value. */
function modelWith(tensor: Record<string, unknown>, as: 'initializer' | 'constant'): Uint8Array {
  const out = { name: 'y', type: { tensorType: { elemType: tensor.dataType } } };
  const graph = as === 'initializer'
    ? { initializer: [{ name: 'x', ...tensor }], node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], output: [out] }
    : { node: [{ name: 'c', opType: 'Constant', output: ['y'], attribute: [{ name: 'value', type: 4, t: tensor }] }], output: [out] };
  return ModelProto.encode(ModelProto.fromObject({ irVersion: 8, opsetImport: [{ version: 17 }], graph })).finish();
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    readOnnxModel(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KilnError, `not a KilnError: ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_MODEL', caught.message);
  assert.match(caught.message, pattern);
}

const huge = [65536, 65535];

test('a string initializer declaring [65536, 65535] with one value is refused without allocating 4e9 entries', () => {
  const t = { dataType: STRING, dims: huge, stringData: [new TextEncoder().encode('a')] };
  rejects(modelWith(t, 'initializer'), /tensor 'x': dims \[65536, 65535\] declare 4294901760 string elements, but the tensor holds 1 values/);
  rejects(modelWith({ ...t, name: 'big' }, 'constant'), /node 'c' attribute 'value' \(tensor 'big'\): dims \[65536, 65535\] declare 4294901760/);
});

test('float tensors: typed and raw data shorter than the dims declare are named, not a bare RangeError', () => {
  rejects(modelWith({ dataType: FLOAT, dims: huge, floatData: [1] }, 'initializer'), /tensor 'x': dims \[65536, 65535\] declare 4294901760 float32 elements, but the tensor holds 1 values/);
  rejects(modelWith({ dataType: FLOAT, dims: huge, rawData: new Uint8Array(4) }, 'initializer'), /tensor 'x': .*declare 4294901760 float32 elements, but raw data holds 4 bytes/);
  rejects(modelWith({ dataType: FLOAT, dims: [3], rawData: new Uint8Array(10) }, 'constant'), /node 'c' attribute 'value'.*raw data holds 10 bytes/);
  rejects(modelWith({ dataType: FLOAT, dims: [2, 2], floatData: [1, 2, 3] }, 'constant'), /declare 4 float32 elements, but the tensor holds 3 values/);
});

test('dims whose product leaves the exactly countable range are refused', () => {
  // 2^31 * 2^31 * 2^2 = 2^64: the product alone is past Number.MAX_SAFE_INTEGER.
  rejects(modelWith({ dataType: FLOAT, dims: [2 ** 31, 2 ** 31, 4], rawData: new Uint8Array(4) }, 'initializer'), /tensor 'x': dims \[2147483648, 2147483648, 4\] declare more elements than can be counted/);
});

test('int4: packed bytes must match ceil(n / 2)', () => {
  rejects(modelWith({ dataType: INT4, dims: huge, rawData: new Uint8Array(1) }, 'initializer'), /tensor 'x': .*int4 elements \(2147450880 bytes\), but raw data holds 1 bytes/);
  rejects(modelWith({ dataType: INT4, dims: [5], int32Data: [1, 2] }, 'initializer'), /declare 5 int4 elements, but the tensor holds 2 packed bytes/);
});

test('matching data still reads (the check does not refuse valid tensors)', () => {
  const raw = new Uint8Array(new Float32Array([1.5, -2]).buffer);
  const m = readOnnxModel(modelWith({ dataType: FLOAT, dims: [2], rawData: raw }, 'initializer'));
  assert.deepEqual(Array.from(m.graph.initializers.get('x')!.data as Float32Array), [1.5, -2]);
  const c = readOnnxModel(modelWith({ dataType: INT4, dims: [3], int32Data: [0x8f, 0x07] }, 'constant'));
  const value = c.graph.nodes[0]!.attrs.raw('value') as { data: Int8Array };
  assert.deepEqual(Array.from(value.data), [-1, -8, 7]);
});
