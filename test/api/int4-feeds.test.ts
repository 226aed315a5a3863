// int4/uint4 feeds as onnxruntime-web takes them: ceil(n/2) bytes in a Uint8Array (or Int8Array),
// two values per byte, low nibble first. A DequantizeLinear model reading an int4 (uint4) input
// gives the same output for the packed feed (a Kiln Tensor or a plain { type, data, dims } object,
// as an ort.Tensor is) as for the unpacked one, and both equal (q - zero_point) * scale computed here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';

const SCALE = 0.25;
/** Every int4 value, an odd count (15 of them plus one more) so the last byte is half used. */
const INT4 = [-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, -8];
const UINT4 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 9];

/** Packs as onnxruntime-web expects, written here independently of Kiln's unpacking. */
function pack(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  values.forEach((v, i) => (out[i >> 1] = out[i >> 1]! | ((v & 0xf) << (i % 2 === 0 ? 0 : 4))));
  return out;
}

function dequantModel(dtype: 'int4' | 'uint4', zeroPoint: number): Uint8Array {
  return encodeOnnxModel({
    opsets: { '': 21 },
    inputs: [{ name: 'q', dtype, dims: [INT4.length] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [INT4.length] }],
    initializers: { scale: new Tensor('float32', [SCALE], []), zp: new Tensor(dtype, dtype === 'int4' ? Int8Array.of(zeroPoint) : Uint8Array.of(zeroPoint), []) },
    nodes: [{ opType: 'DequantizeLinear', inputs: ['q', 'scale', 'zp'], outputs: ['y'] }],
  });
}

for (const [dtype, values, zp] of [['int4', INT4, -1], ['uint4', UINT4, 8]] as const) {
  test(`${dtype}: packed feeds (Tensor and plain object) match the unpacked feed and the formula`, async () => {
    const s = await InferenceSession.create(dequantModel(dtype, zp), { executionProviders: ['cpu'] });
    try {
      const expected = values.map((v) => (v - zp) * SCALE);
      const unpacked = dtype === 'int4' ? Int8Array.from(values) : Uint8Array.from(values);
      const fromUnpacked = Array.from((await s.run({ q: new Tensor(dtype, unpacked, [values.length]) })).y!.data as Float32Array);
      assert.deepEqual(fromUnpacked, expected);
      const packedTensor = new Tensor(dtype, pack(values), [values.length]);
      assert.deepEqual(Array.from(packedTensor.data), values, 'the Tensor unpacks low nibble first');
      assert.deepEqual(Array.from((await s.run({ q: packedTensor })).y!.data as Float32Array), expected);
      // What onnxruntime-web users hold: an object with the packed bytes (Int8Array accepted too).
      for (const data of [pack(values), new Int8Array(pack(values).buffer)]) {
        const ortLike = { type: dtype, data, dims: [values.length] } as unknown as Tensor; // a foreign tensor object, as ort.Tensor is
        assert.deepEqual(Array.from((await s.run({ q: ortLike })).y!.data as Float32Array), expected);
      }
    } finally {
      await s.release();
    }
  });
}

test('int4 data that is neither one value per element nor ceil(n/2) bytes is INPUT_MISMATCH naming the input', async () => {
  const s = await InferenceSession.create(dequantModel('int4', 0), { executionProviders: ['cpu'] });
  try {
    const wrong = { type: 'int4', data: new Uint8Array(5), dims: [INT4.length] } as unknown as Tensor; // a foreign tensor object
    await assert.rejects(s.run({ q: wrong }), (e: unknown) => e instanceof KilnError && e.code === 'INPUT_MISMATCH' && /input 'q'/.test(e.message));
    assert.throws(() => new Tensor('int4', new Uint8Array(5), [INT4.length]), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
  } finally {
    await s.release();
  }
});
