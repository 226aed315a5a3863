// QLinearMatMul: WebGPU vs the CPU reference (exact), plus the exact requantization rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulRoundHalfEven } from '../../kernels/common/quant.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';
import { Tensor } from '../../core/tensor.ts';

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
// The WebGPU QDQ fusion's folded ops (kernels/qlinear-conv/fused-io.ts): QuantizeLinear on a's
// load (a float32; quantized by a program of its own when a is read many times), a QLinearLookup
// table and a DequantizeLinear in the store; the reference runs the separate ops' references.
const fa = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-3, 3] });
const fusedCase = (name: string, inputs: InputSpec[], attrs: OpCase['attrs']): OpCase => ({ name, op: 'QLinearMatMul', opset: 13, inputs, attrs, tolerance: EXACT });
const fused: OpCase[] = [
  fusedCase('folded Q on a, dequantized output (a classifier head)', [fa([1, 40]), c('float32', [], [0.025]), c('uint8', [], [126]), i8([40, 6]), sc([6]), c('int8', [6], [0, 0, 0, 0, 0, 0]), sc([], [0.1, 0.3]), u8([], [100, 150])], { kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.031), []), kiln_dequantize_zero_point: new Tensor('uint8', Uint8Array.of(128), []) }),
  fusedCase('folded Q on a large a (a quantize program first), int8 table', [fa([64, 96]), c('float32', [], [0.02]), c('int8', [], [3]), i8([96, 48]), sc([]), i8([]), sc([], [0.2, 0.4]), i8([], [-5, 5])], { kiln_quantize_x: 1, kiln_lookup_table: new Tensor('int8', Int8Array.from(ints(256, -128, 128)), [256]) }),
  // then a classifier head's bias Add (kiln_dequantize_bias): QLinearMatMul -> DQ -> Add in one store
  fusedCase('dequantized output plus a per-column bias', [fa([3, 24]), c('float32', [], [0.025]), c('uint8', [], [126]), i8([24, 10]), sc([10]), c('int8', [10], new Array<number>(10).fill(0)), sc([], [0.1, 0.3]), u8([], [100, 150])], { kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.043), []), kiln_dequantize_zero_point: new Tensor('uint8', Uint8Array.of(120), []), kiln_dequantize_bias: new Tensor('float32', Float32Array.from({ length: 10 }, () => rng.uniform() * 4 - 2), [10]) }),
  fusedCase('float table', [u8([3, 16]), sc([]), u8([]), u8([16, 5]), sc([]), u8([]), sc([], [0.3, 0.6]), u8([])], { kiln_lookup_table: new Tensor('float32', Float32Array.from({ length: 256 }, () => rng.uniform() * 8 - 4), [256]) }),
];

runOpCases('qlinear-matmul', [...cases.map((c) => (WASM_DECLINES.has(c.name) ? c : { ...c, wasmKernel: true })), ...fused]);

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

const dqScale = new Tensor('float32', Float32Array.of(0.05), []);
const bias = (n: number, type: 'float32' | 'int32' = 'float32') => (type === 'float32' ? new Tensor('float32', new Float32Array(n), [n]) : new Tensor('int32', new Int32Array(n), [n]));
runBadInputCases('qlinear-matmul', [
  { name: 'a folded bias without the folded DequantizeLinear', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_dequantize_bias: bias(4) }, error: /kiln_dequantize_bias needs kiln_dequantize_scale/ },
  { name: 'a folded bias of the wrong length', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_dequantize_scale: dqScale, kiln_dequantize_bias: bias(5) }, error: /kiln_dequantize_bias must be float32 \[4\], got float32 \[5\]/ },
  { name: 'a folded bias of another type', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_dequantize_scale: dqScale, kiln_dequantize_bias: bias(4, 'int32') }, error: /kiln_dequantize_bias must be float32 \[4\], got int32/ },
  { name: 'scale types differ', op: 'QLinearMatMul', opset: 21, inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), h([], [0.1, 0.2]), u8([]), sc([]), u8([])], error: /b_scale type float16 differs from a_scale type float32/ },
  { name: 'b_scale of the wrong length', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([3]), u8([]), sc([]), u8([])], error: /b_scale has shape \[3\], expected a scalar, \[4\]/ },
  { name: 'int32 y_zero_point', op: 'QLinearMatMul', inputs: [u8([2, 3]), sc([]), u8([]), u8([3, 4]), sc([]), u8([]), sc([]), { dtype: 'int32', dims: [], range: [0, 3] }], error: /y_zero_point type int32 is not one of uint8, int8/ },
]);
