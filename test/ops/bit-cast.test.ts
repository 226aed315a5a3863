import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { definitions } from '../../kernels/bit-cast/op.ts';
import { Attributes } from '../../core/attributes.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// BitCast runs on the CPU in every session (gpu: false). ONNX type codes: 1 float32, 2 uint8,
// 3 int8, 4 uint16, 5 int16, 6 int32, 7 int64, 9 bool, 10 float16, 11 float64, 12 uint32, 13 uint64.
/** integers whose float32 bit patterns are finite (|bits| < 2^31 with exponent below all-ones) */
const ints32: InputSpec = { dtype: 'int32', dims: [3, 5], range: [-1e9, 1e9] };

const cases: OpCase[] = [
  { name: 'float32 to int32', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 6 }, inputs: [{ dtype: 'float32', dims: [4, 3] }] },
  { name: 'int32 to float32', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 1 }, inputs: [ints32] },
  { name: 'float32 to uint32', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 12 }, inputs: [{ dtype: 'float32', dims: [7] }] },
  { name: 'float64 to int64', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 7 }, inputs: [{ dtype: 'float64', dims: [2, 2] }] },
  { name: 'float16 to int16', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 5 }, inputs: [{ dtype: 'float16', dims: [6] }] },
  { name: 'int8 to uint8', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 2 }, inputs: [{ dtype: 'int8', dims: [9], range: [-128, 128] }] },
  { name: 'scalar uint16 to int16', op: 'BitCast', opset: 26, gpu: false, attrs: { to: 5 }, inputs: [{ dtype: 'uint16', dims: [], range: [0, 65536] }] },
];

runOpCases('bit-cast', cases);

runBadInputCases('bit-cast', [
  { name: 'widths differ', op: 'BitCast', opset: 26, attrs: { to: 7 }, inputs: [{ dtype: 'float32', dims: [2] }], error: /32 bits\) to int64 \(64 bits\)/ },
  { name: 'no to', op: 'BitCast', opset: 26, inputs: [{ dtype: 'float32', dims: [2] }], error: /needs the 'to' attribute/ },
]);

test('BitCast reinterprets bits: known patterns, little-endian, bytes kept as they are', () => {
  const [bitCast] = definitions;
  const run = (x: Tensor<'float32'> | Tensor<'uint8'>, to: number): ArrayLike<number | bigint> => bitCast!.reference([x], { attrs: new Attributes(new Map([['to', to]])), opset: 26, node: 'b', host: [] })[0]!.data as ArrayLike<number>;
  assert.deepEqual(Array.from(run(new Tensor('float32', new Float32Array([1, -2, 0.5]), [3]), 6)), [0x3f800000, 0xc0000000 | 0, 0x3f000000]);
  assert.deepEqual(Array.from(run(new Tensor('uint8', new Uint8Array([0, 1, 2, 255]), [4]), 9)), [0, 1, 2, 255]);
});
