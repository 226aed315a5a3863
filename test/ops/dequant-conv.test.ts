// kiln.DequantConv (written by the QDQ lowering pass): packed 8/4-bit constant weights dequantized
// as they are loaded, WebGPU vs the CPU reference (dequantize, then the float Conv).
import { runOpCases, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo + 1)));
const floats = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + rng.uniform() * (hi - lo));
const none = { dtype: 'float32', dims: [0], omit: true } as const;

const cases: OpCase[] = [
  {
    name: 'int8 per output channel, symmetric, bias, Relu, pads',
    op: 'DequantConv', domain: 'kiln',
    attrs: { pads: [1, 1, 1, 1], kiln_dq_axis: 0, kiln_dq_block_size: 0, kiln_activation: 'Relu' },
    inputs: [
      { dtype: 'float32', dims: [1, 5, 9, 11] },
      { dtype: 'int8', dims: [7, 5, 3, 3], values: ints(7 * 5 * 9, -128, 127) },
      { dtype: 'float32', dims: [7], values: floats(7, -1, 1) },
      { dtype: 'float32', dims: [7], values: floats(7, 0.001, 0.02) },
      none,
    ],
  },
  {
    name: 'uint8 per-tensor with zero point, strided',
    op: 'DequantConv', domain: 'kiln',
    attrs: { strides: [2, 2], kiln_dq_axis: 0, kiln_dq_block_size: 0 },
    inputs: [
      { dtype: 'float32', dims: [2, 3, 10, 10] },
      { dtype: 'uint8', dims: [4, 3, 3, 3], values: ints(4 * 27, 0, 255) },
      none,
      { dtype: 'float32', dims: [], values: [0.01] },
      { dtype: 'uint8', dims: [], values: [131] },
    ],
  },
  {
    name: 'int4 blocked along input channels with zero points (generic load path)',
    op: 'DequantConv', domain: 'kiln',
    attrs: { kiln_dq_axis: 1, kiln_dq_block_size: 16 },
    inputs: [
      { dtype: 'float32', dims: [1, 40, 4, 5] },
      { dtype: 'int4', dims: [6, 40, 1, 1], values: ints(240, -8, 7) },
      none,
      { dtype: 'float32', dims: [6, 3, 1, 1], values: floats(18, 0.01, 0.1) },
      { dtype: 'int4', dims: [6, 3, 1, 1], values: ints(18, -2, 2) },
    ],
  },
  {
    name: 'uint4 depthwise, per channel with zero points',
    op: 'DequantConv', domain: 'kiln',
    attrs: { group: 6, pads: [1, 1, 1, 1], kiln_dq_axis: 0, kiln_dq_block_size: 0 },
    inputs: [
      { dtype: 'float32', dims: [1, 6, 7, 9] },
      { dtype: 'uint4', dims: [6, 1, 3, 3], values: ints(54, 0, 15) },
      none,
      { dtype: 'float32', dims: [6], values: floats(6, 0.01, 0.1) },
      { dtype: 'uint4', dims: [6], values: ints(6, 5, 10) },
    ],
  },
];

// every case is a 2-D float conv once dequantized: the wasm kernel (dequant-conv/wasm.ts) must run it
runOpCases('dequant-conv', cases.map((c) => ({ ...c, wasmKernel: true })));
