import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const MS = 'com.microsoft';
const GBQ = 'GatherBlockQuantized';
const int4 = (dims: number[]): InputSpec => ({ dtype: 'int4', dims, range: [-8, 8] });
const uint4 = (dims: number[]): InputSpec => ({ dtype: 'uint4', dims, range: [0, 16] });
const uint8 = (dims: number[]): InputSpec => ({ dtype: 'uint8', dims, range: [0, 256] });
const idx = (dims: number[], lo: number, hi: number, dtype: 'int32' | 'int64' = 'int64'): InputSpec => ({ dtype, dims, range: [lo, hi] });
const scales = (dims: number[], dtype: 'float32' | 'float16' = 'float32'): InputSpec => ({ dtype, dims, range: [0.01, 0.5] });
/** fixed data as an initializer: the GPU keeps 4/8-bit constants packed in words */
const constant = (dtype: 'int4' | 'uint8', dims: number[]): InputSpec => {
  const n = dims.reduce((a, b) => a * b, 1);
  return { dtype, dims, values: Array.from({ length: n }, (_, i) => (dtype === 'int4' ? ((i * 7) % 16) - 8 : (i * 37) % 256)) };
};

const cases: OpCase[] = [
  // int4 data: [vocab, hidden] embedding table, gather rows, blocks along the hidden axis
  { name: 'int4 embedding rows, block 16, no zero points', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int4([10, 32]), idx([2, 3], -10, 10), scales([10, 2])] },
  { name: 'int4 with zero points, ragged last block', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int4([6, 40]), idx([4], 0, 6), scales([6, 3]), int4([6, 3])] },
  { name: 'uint4 with zero points, int32 indices', op: GBQ, domain: MS, attrs: { block_size: 32 }, inputs: [uint4([5, 64]), idx([3], 0, 5, 'int32'), scales([5, 2]), uint4([5, 2])] },
  { name: 'uint4 without zero points (zero point 0)', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [uint4([4, 16]), idx([2], 0, 4), scales([4, 1])] },
  { name: 'int4 gather_axis 1, quantize_axis 0', op: GBQ, domain: MS, attrs: { block_size: 16, gather_axis: 1, quantize_axis: 0 }, inputs: [int4([20, 6]), idx([3], -6, 6), scales([2, 6])] },
  { name: 'int4 rank 3, quantize_axis 2', op: GBQ, domain: MS, attrs: { block_size: 16, quantize_axis: 2 }, inputs: [int4([4, 3, 32]), idx([2, 2], 0, 4), scales([4, 3, 2]), int4([4, 3, 2])] },
  { name: 'int4 float16 scales', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int4([6, 32]), idx([3], 0, 6), scales([6, 2], 'float16')], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: 'negative indices', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int4([3, 16]), { dtype: 'int64', dims: [4], values: [0, -3, 2, -1], feed: true }, scales([3, 1])] },
  // uint8 data in MatMulNBits' layout
  { name: 'uint8 bits 4, default zero point 8', op: GBQ, domain: MS, attrs: { block_size: 16, bits: 4 }, inputs: [uint8([5, 16]), idx([3], 0, 5), scales([5, 2])] },
  { name: 'uint8 bits 4, packed zero points, odd block count', op: GBQ, domain: MS, attrs: { block_size: 16, bits: 4 }, inputs: [uint8([4, 24]), idx([2, 2], 0, 4), scales([4, 3]), uint8([4, 2])] },
  { name: 'uint8 bits 8 with zero points', op: GBQ, domain: MS, attrs: { block_size: 16, bits: 8 }, inputs: [uint8([4, 32]), idx([3], 0, 4), scales([4, 2]), uint8([4, 2])] },
  { name: 'uint8 bits 2, default zero point 2', op: GBQ, domain: MS, attrs: { block_size: 16, bits: 2 }, inputs: [uint8([3, 8]), idx([2], 0, 3), scales([3, 2])] },
  // constant data, stored packed on the GPU
  { name: 'int4 constant table (packed on the GPU)', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [constant('int4', [8, 32]), idx([5], 0, 8), scales([8, 2])] },
  { name: 'uint8 bits 4 constant table (packed on the GPU)', op: GBQ, domain: MS, attrs: { block_size: 32, bits: 4 }, inputs: [constant('uint8', [6, 20]), idx([3], 0, 6), scales([6, 2])] },
];

runOpCases('gather-block-quantized', cases);

runBadInputCases('gather-block-quantized', [
  { name: 'block_size not a power of 2', op: GBQ, domain: MS, attrs: { block_size: 24 }, inputs: [int4([4, 48]), idx([2], 0, 4), scales([4, 2])], error: /block_size must be a power of 2 and not less than 16, got 24/ },
  { name: 'scales do not match the blocks', op: GBQ, domain: MS, attrs: { block_size: 16 }, inputs: [int4([4, 48]), idx([2], 0, 4), scales([4, 2])], error: /scales shape \[4, 2\] does not match data \[4, 48\]/ },
  { name: 'uint8 data gathered along axis 1', op: GBQ, domain: MS, attrs: { block_size: 16, gather_axis: 1 }, inputs: [uint8([4, 16]), idx([2], 0, 4), scales([4, 2])], error: /gather_axis must be 0 and quantize_axis the last axis/ },
  { name: 'int4 with bits 8', op: GBQ, domain: MS, attrs: { block_size: 16, bits: 8 }, inputs: [int4([4, 16]), idx([2], 0, 4), scales([4, 1])], error: /bits 8 is not supported for int4 data/ },
]);
