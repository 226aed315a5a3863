// MatMulInteger: WebGPU vs the CPU reference, exact int32 results.
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[]): InputSpec => ({ dtype: 'uint8', dims, range: [0, 256] });
const i8 = (dims: number[]): InputSpec => ({ dtype: 'int8', dims, range: [-128, 128] });
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
const mm = (name: string, inputs: InputSpec[]): OpCase => ({ name, op: 'MatMulInteger', opset: 10, inputs, tolerance: EXACT });

const cases: OpCase[] = [
  mm('uint8 x uint8, scalar zero points', [u8([5, 7]), u8([7, 9]), u8([]), u8([])]),
  mm('int8 x int8, no zero points', [i8([4, 16]), i8([16, 8])]),
  mm('uint8 x int8, 1-element zero points', [u8([6, 5]), i8([5, 3]), u8([1]), i8([1])]),
  mm('per-row a_zero_point, per-column b_zero_point', [u8([9, 11]), u8([11, 13]), u8([9]), u8([13])]),
  mm('batched zero points [.., M, 1] and [.., 1, N]', [u8([3, 5, 4]), i8([3, 4, 6]), u8([3, 5, 1]), i8([3, 1, 6])]),
  mm('batch broadcast', [i8([2, 1, 5, 4]), u8([3, 4, 7]), i8([]), u8([])]),
  mm('1-D A', [u8([8]), u8([2, 8, 5]), u8([])]),
  mm('1-D B', [i8([3, 6, 8]), i8([8])]),
  mm('1-D x 1-D', [u8([17]), u8([17]), u8([]), u8([])]),
  mm('M = 2, 3 (narrow tiles)', [u8([2, 9]), u8([9, 6])]),
  mm('M = 3', [i8([3, 9]), i8([9, 5]), i8([])]),
  // constant 8-bit weights live packed; N % 4 == 0 reads a word per k for the tile's four columns
  mm('packed int8 weight, N % 4 == 0', [u8([7, 24]), { dtype: 'int8', dims: [24, 16], values: ints(384, -128, 128) }, u8([]), { dtype: 'int8', dims: [16], values: ints(16, -10, 10) }]),
  mm('packed uint8 weight, N % 4 != 0', [u8([5, 13]), { dtype: 'uint8', dims: [13, 7], values: ints(91, 0, 256) }, u8([]), { dtype: 'uint8', dims: [], values: [128] }]),
  mm('packed batched weight', [i8([2, 3, 10]), { dtype: 'uint8', dims: [2, 10, 8], values: ints(160, 0, 256) }]),
  mm('long K (2048)', [u8([3, 2048]), u8([2048, 5])]),
  mm('large M and N', [u8([300, 64]), i8([64, 301]), u8([]), i8([])]),
];

// every case but these runs the wasm kernel itself (kernels/wasm/gemm-s8.ts declines per-matrix zero points)
const WASM_DECLINES = new Set(['batched zero points [.., M, 1] and [.., 1, N]']);
runOpCases('matmul-integer', cases.map((c) => (WASM_DECLINES.has(c.name) ? c : { ...c, wasmKernel: true })));

runBadInputCases('matmul-integer', [
  { name: 'K mismatch', op: 'MatMulInteger', opset: 10, inputs: [u8([2, 3]), u8([4, 5])], error: /disagree on K \(3 vs 4\)/ },
  { name: 'a_zero_point of the wrong length', op: 'MatMulInteger', opset: 10, inputs: [u8([2, 3]), u8([3, 5]), u8([3])], error: /a_zero_point has shape \[3\], expected a scalar, \[2\]/ },
  { name: 'float A', op: 'MatMulInteger', opset: 10, inputs: [{ dtype: 'float32', dims: [2, 3] }, u8([3, 5])], error: /A type float32 is not one of uint8, int8/ },
]);
