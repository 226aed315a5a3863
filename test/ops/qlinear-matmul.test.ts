// QLinearMatMul: WebGPU vs the CPU reference (exact), plus the exact requantization rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulRoundHalfEven } from '../../kernels/common/quant.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[], range: [number, number] = [0, 256]): InputSpec => ({ dtype: 'uint8', dims, range });
const i8 = (dims: number[], range: [number, number] = [-128, 128]): InputSpec => ({ dtype: 'int8', dims, range });
const sc = (dims: number[], range: [number, number] = [0.01, 0.03]): InputSpec => ({ dtype: 'float32', dims, range });
const h = (dims: number[], range: [number, number]): InputSpec => ({ dtype: 'float16', dims, range });
const c = (dtype: 'float32' | 'uint8' | 'int8', dims: number[], values: number[]): InputSpec => ({ dtype, dims, values });
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
// inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
const q = (name: string, inputs: InputSpec[], opset = 10): OpCase => ({ name, op: 'QLinearMatMul', opset, inputs, tolerance: EXACT });

const cases: OpCase[] = [
  q('uint8 per-tensor, fed parameters', [u8([6, 32]), sc([]), u8([]), u8([32, 9]), sc([]), u8([]), sc([], [0.3, 1]), u8([])]),
  q('int8 per-tensor, [1]-shaped parameters', [i8([5, 20]), sc([1]), i8([1], [-5, 5]), i8([20, 7]), sc([1]), i8([1], [-5, 5]), sc([1], [0.2, 0.5]), i8([1], [-20, 20])]),
  q('mixed uint8 a, int8 b and y', [u8([4, 16]), sc([]), u8([]), i8([16, 8]), sc([]), i8([]), sc([], [0.2, 0.5]), i8([])]),
  q('float16 scales (opset 21)', [u8([3, 24]), h([], [0.01, 0.03]), u8([]), u8([24, 5]), h([], [0.01, 0.03]), u8([]), h([], [0.3, 1]), u8([])], 21),
  q('per-column b, per-row a and y', [u8([7, 12]), sc([7]), u8([7]), u8([12, 10]), sc([10]), u8([10]), sc([7], [0.2, 0.6]), u8([7])]),
  // the usual quantized Linear: packed int8 weight, per-channel constant scales / zero points
  q('packed int8 weight, per-column constants (word reads)', [u8([9, 40]), c('float32', [], [0.02]), c('uint8', [], [128]), { dtype: 'int8', dims: [40, 12], values: ints(480, -128, 128) }, c('float32', [12], Array.from({ length: 12 }, () => 0.005 + rng.uniform() * 0.01)), c('int8', [12], new Array<number>(12).fill(0)), c('float32', [], [0.15]), c('uint8', [], [120])]),
  q('packed uint8 weight, N % 4 != 0', [u8([5, 30]), sc([]), u8([]), { dtype: 'uint8', dims: [30, 7], values: ints(210, 0, 256) }, sc([]), c('uint8', [], [127]), sc([], [0.3, 1]), u8([])]),
  q('3-D batch broadcast', [i8([2, 1, 4, 8]), sc([]), i8([]), i8([3, 8, 5]), sc([]), i8([]), sc([], [0.1, 0.3]), i8([])]),
  // power-of-two multiplier (0.5 * 0.25 / 1): acc * m lands on exact halves, which round to even
  q('ties to even', [i8([6, 5], [-20, 20]), c('float32', [], [0.5]), c('int8', [], [0]), i8([5, 8], [-20, 20]), c('float32', [], [0.25]), c('int8', [], [0]), c('float32', [], [1]), i8([], [-3, 3])]),
  // |acc| > 2^29: float64 is no longer exact, CPU takes the BigInt path and WGSL its 64-bit product
  q('accumulators above 2^29', [u8([2, 20000], [200, 256]), c('float32', [], [0.001]), c('uint8', [], [0]), { dtype: 'uint8', dims: [20000, 4], values: ints(80000, 200, 256) }, c('float32', [], [0.001]), c('uint8', [], [0]), sc([], [4.5, 5.5]), c('uint8', [], [0])]),
  q('large M and N', [u8([130, 64]), sc([]), u8([]), u8([64, 257]), sc([]), u8([]), sc([], [0.3, 1]), u8([])]),
];

// every case but these runs the wasm kernel itself (kernels/wasm/gemm-s8.ts declines row-varying and float16 parameters)
const WASM_DECLINES = new Set(['float16 scales (opset 21)', 'per-column b, per-row a and y']);
runOpCases('qlinear-matmul', cases.map((c) => (WASM_DECLINES.has(c.name) ? c : { ...c, wasmKernel: true })));

test('mulRoundHalfEven is exact beyond 2^29 (vs rational BigInt arithmetic)', () => {
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  for (let t = 0; t < 2000; t++) {
    const acc = (rng.uniform() < 0.5 ? -1 : 1) * Math.floor(2 ** 29 + rng.uniform() * (2 ** 31 - 2 ** 29));
    f32[0] = t % 3 === 0 ? 2 ** -(20 + (t % 9)) * 3 : rng.uniform() * 1e-6;
    const m = f32[0]!;
    // m = sig * 2^e exactly; acc * m = acc * sig / 2^-e
    const ex = (bits[0]! >>> 23) & 0xff;
    const sig = BigInt((bits[0]! & 0x7fffff) | 0x800000);
    const s = BigInt(150 - ex);
    const num = BigInt(acc) * sig;
    const den = 1n << s;
    const fl = num >= 0n ? num / den : -((-num + den - 1n) / den); // floor
    const rem = num - fl * den;
    const want = 2n * rem > den || (2n * rem === den && (fl & 1n) === 1n) ? fl + 1n : fl;
    assert.equal(mulRoundHalfEven(acc, m), Number(want), `acc ${acc} m ${m}`);
  }
});

runBadInputCases('qlinear-matmul', [
  { name: 'scale types differ', op: 'QLinearMatMul', opset: 21, inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), h([], [0.1, 0.2]), u8([]), sc([]), u8([])], error: /b_scale type float16 differs from a_scale type float32/ },
  { name: 'b_scale of the wrong length', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([3]), u8([]), sc([]), u8([])], error: /b_scale has shape \[3\], expected a scalar, \[4\]/ },
  { name: 'int32 y_zero_point', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([]), u8([]), sc([]), { dtype: 'int32', dims: [], range: [0, 3] }], error: /y_zero_point type int32 is not one of uint8, int8/ },
]);
