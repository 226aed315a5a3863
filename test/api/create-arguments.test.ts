// create(buffer, byteOffset, byteLength?, options?) as onnxruntime-web takes it (runtime/api/
// create-arguments.ts): the model inside a larger ArrayBuffer. Before, the offset was read as
// options and the buffer from byte 0 ("not valid protobuf"). Bad offsets are typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';

const model = encodeOnnxModel({
  nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [{ name: 'a', dtype: 'float32', dims: [3] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [3] }],
  initializers: { b: new Tensor('float32', Float32Array.of(10, 20, 30), [3]) },
});
const PREFIX = 24;
const SUFFIX = 8;
const buffer = new ArrayBuffer(PREFIX + model.length + SUFFIX);
new Uint8Array(buffer).fill(0xff); // bytes around the model that are no protobuf
new Uint8Array(buffer, PREFIX).set(model);

async function sums(s: InferenceSession): Promise<number[]> {
  try {
    return Array.from((await s.run({ a: new Tensor('float32', Float32Array.of(1, 2, 3), [3]) }))['y']!.data as Float32Array);
  } finally {
    await s.release();
  }
}

test('create(buffer, byteOffset, byteLength, options) and create(buffer, byteOffset) read the model where it lies', async () => {
  assert.deepEqual(await sums(await InferenceSession.create(buffer, PREFIX, model.length, { executionProviders: ['js'] })), [11, 22, 33]);
  const tail = buffer.slice(0, PREFIX + model.length); // the model runs to the end
  assert.deepEqual(await sums(await InferenceSession.create(tail, PREFIX)), [11, 22, 33]);
  assert.deepEqual(await sums(await InferenceSession.create(model, { executionProviders: ['wasm'] })), [11, 22, 33], 'the usual form is unchanged');
});

test('offsets outside the buffer, and an offset after something that is not an ArrayBuffer, are INVALID_ARGUMENT', async () => {
  const invalid = (e: unknown): boolean => e instanceof KilnError && e.code === 'INVALID_ARGUMENT';
  await assert.rejects(InferenceSession.create(buffer, PREFIX, buffer.byteLength), invalid);
  await assert.rejects(InferenceSession.create(buffer, -1), invalid);
  await assert.rejects(InferenceSession.create(buffer, 1.5, 3), invalid);
  await assert.rejects(InferenceSession.create(model as unknown as ArrayBuffer, 0), invalid); // a JavaScript caller's Uint8Array where the buffer goes
});
