// ConvInteger: WebGPU vs the CPU reference, exact int32 results.
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import type { WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[]): InputSpec => ({ dtype: 'uint8', dims, range: [0, 256] });
const i8 = (dims: number[]): InputSpec => ({ dtype: 'int8', dims, range: [-128, 128] });
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
const conv = (name: string, inputs: InputSpec[], attrs: Record<string, WriterAttribute> = {}): OpCase => ({ name, op: 'ConvInteger', opset: 10, inputs, attrs, tolerance: EXACT });

const cases: OpCase[] = [
  conv('2-D uint8, scalar zero points', [u8([1, 3, 7, 7]), u8([4, 3, 3, 3]), u8([]), u8([])]),
  conv('no zero points', [u8([2, 2, 5, 6]), u8([5, 2, 2, 2])]),
  conv('int8 x, uint8 w, pads and strides', [i8([1, 4, 9, 8]), u8([6, 4, 3, 3]), i8([]), u8([])], { pads: [1, 2, 1, 0], strides: [2, 2] }),
  conv('dilations', [u8([1, 2, 10, 10]), i8([3, 2, 3, 3]), u8([]), i8([])], { dilations: [2, 3] }),
  conv('per-channel w_zero_point', [u8([2, 3, 6, 6]), u8([5, 3, 3, 3]), u8([]), u8([5])], { pads: [1, 1, 1, 1] }),
  conv('groups', [u8([1, 6, 6, 6]), u8([9, 2, 3, 3]), u8([])], { group: 3, pads: [1, 1, 1, 1] }),
  conv('depthwise', [u8([1, 8, 7, 7]), i8([8, 1, 3, 3]), u8([]), i8([])], { group: 8, auto_pad: 'SAME_UPPER' }),
  conv('depthwise stride 2, per-channel w_zero_point, odd width', [i8([2, 6, 10, 19]), u8([6, 1, 3, 3]), i8([]), u8([6])], { group: 6, pads: [1, 1, 1, 1], strides: [2, 2] }),
  conv('depthwise 1-D, stride 3', [u8([1, 4, 30]), i8([4, 1, 5]), u8([]), i8([])], { group: 4, pads: [2, 2], strides: [3] }),
  conv('auto_pad SAME_LOWER, stride 2', [i8([1, 3, 8, 9]), i8([2, 3, 4, 3]), i8([])], { auto_pad: 'SAME_LOWER', strides: [2, 2] }),
  conv('1-D', [u8([2, 3, 20]), u8([5, 3, 4]), u8([]), u8([5])], { pads: [2, 1], strides: [3] }),
  conv('3-D', [u8([1, 2, 5, 6, 4]), i8([3, 2, 2, 3, 2]), u8([]), i8([])], { pads: [1, 0, 1, 0, 1, 0] }),
  // realistic: packed int8 constant weights with per-channel constant zero points
  conv('packed int8 weights, per-channel packed zero points', [u8([1, 5, 9, 9]), { dtype: 'int8', dims: [7, 5, 3, 3], values: ints(315, -128, 128) }, u8([]), { dtype: 'int8', dims: [7], values: ints(7, -4, 4) }], { pads: [1, 1, 1, 1] }),
  conv('packed uint8 weights, odd size', [u8([1, 3, 5, 5]), { dtype: 'uint8', dims: [3, 3, 1, 1], values: ints(9, 0, 256) }, u8([]), { dtype: 'uint8', dims: [], values: [127] }]),
  conv('larger', [u8([2, 16, 20, 20]), i8([32, 16, 3, 3]), u8([]), i8([])], { pads: [1, 1, 1, 1] }),
];

// every case but these runs the wasm kernel itself (kernels/wasm/gemm-s8.ts declines 3-D convs)
const WASM_DECLINES = new Set<string>(['3-D']);
runOpCases('conv-integer', cases.map((c) => (WASM_DECLINES.has(c.name) ? c : { ...c, wasmKernel: true })));

runBadInputCases('conv-integer', [
  { name: 'w_zero_point of the wrong length', op: 'ConvInteger', opset: 10, inputs: [u8([1, 2, 4, 4]), u8([3, 2, 2, 2]), u8([]), u8([2])], error: /w_zero_point has shape \[2\], expected a scalar or \[3\]/ },
  { name: 'per-channel x_zero_point', op: 'ConvInteger', opset: 10, inputs: [u8([1, 2, 4, 4]), u8([3, 2, 2, 2]), u8([2])], error: /x_zero_point has shape \[2\], expected a scalar/ },
  { name: 'float x', op: 'ConvInteger', opset: 10, inputs: [{ dtype: 'float32', dims: [1, 2, 4, 4] }, u8([3, 2, 2, 2])], error: /x type float32 is not one of uint8, int8/ },
]);
