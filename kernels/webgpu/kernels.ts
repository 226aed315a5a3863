// The WebGPU implementations of every op family that has them, by opKey. Only the WebGPU backend
// imports this table, so builds without it leave the WGSL out. Families whose ops always fold at
// plan time (constant, shape) have no webgpu.ts.
import type { ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from './contract.ts';
import { webgpu as elementwiseBinary } from '../elementwise-binary/webgpu.ts';
import { webgpu as elementwiseUnary } from '../elementwise-unary/webgpu.ts';
import { webgpu as cast } from '../cast/webgpu.ts';
import { webgpu as where } from '../where/webgpu.ts';
import { webgpu as variadic } from '../variadic/webgpu.ts';
import { webgpu as matmul } from '../matmul/webgpu.ts';
import { webgpu as gemm } from '../gemm/webgpu.ts';
import { webgpu as conv } from '../conv/webgpu.ts';
import { webgpu as convTranspose } from '../conv-transpose/webgpu.ts';
import { webgpu as pool } from '../pool/webgpu.ts';
import { webgpu as normalization } from '../normalization/webgpu.ts';
import { webgpu as softmax } from '../softmax/webgpu.ts';
import { webgpu as reduce } from '../reduce/webgpu.ts';
import { webgpu as reshape } from '../reshape/webgpu.ts';
import { webgpu as transpose } from '../transpose/webgpu.ts';
import { webgpu as concat } from '../concat/webgpu.ts';
import { webgpu as split } from '../split/webgpu.ts';
import { webgpu as slice } from '../slice/webgpu.ts';
import { webgpu as gather } from '../gather/webgpu.ts';
import { webgpu as expand } from '../expand/webgpu.ts';
import { webgpu as pad } from '../pad/webgpu.ts';
import { webgpu as resize } from '../resize/webgpu.ts';
import { webgpu as tile } from '../tile/webgpu.ts';
import { webgpu as quantizeLinear } from '../quantize-linear/webgpu.ts';
import { webgpu as matmulInteger } from '../matmul-integer/webgpu.ts';
import { webgpu as qlinearMatmul } from '../qlinear-matmul/webgpu.ts';
import { webgpu as convInteger } from '../conv-integer/webgpu.ts';
import { webgpu as qlinearConv } from '../qlinear-conv/webgpu.ts';
import { webgpu as qlinearBinary } from '../qlinear-binary/webgpu.ts';
import { webgpu as matmulNbits } from '../matmul-nbits/webgpu.ts';
import { webgpu as dequantConv } from '../dequant-conv/webgpu.ts';
import { webgpu as quantizeDequantize } from '../quantize-dequantize/webgpu.ts';
import { webgpu as qlinearLookup } from '../qlinear-lookup/webgpu.ts';
import { webgpu as fusedNorm } from '../fused-norm/webgpu.ts';
import { webgpu as biasActivation } from '../bias-activation/webgpu.ts';
import { webgpu as embedLayerNorm } from '../embed-layer-norm/webgpu.ts';
import { webgpu as gatherBlockQuantized } from '../gather-block-quantized/webgpu.ts';
import { webgpu as rotaryEmbedding } from '../rotary-embedding/webgpu.ts';
import { webgpu as attention } from '../attention/webgpu.ts';
import { webgpu as cumsum } from '../cumsum/webgpu.ts';
import { webgpu as trilu } from '../trilu/webgpu.ts';
import { webgpu as scatter } from '../scatter/webgpu.ts';
import { webgpu as einsum } from '../einsum/webgpu.ts';
import { webgpu as signal } from '../signal/webgpu.ts';
import { webgpu as topk } from '../topk/webgpu.ts';
import { webgpu as oneHot } from '../one-hot/webgpu.ts';
import { webgpu as dropout } from '../dropout/webgpu.ts';
import { webgpu as gridSample } from '../grid-sample/webgpu.ts';
import { webgpu as lrn } from '../lrn/webgpu.ts';
import { webgpu as roiAlign } from '../roi-align/webgpu.ts';
import { webgpu as tensorScatter } from '../tensor-scatter/webgpu.ts';

const tables: readonly ImplementationTable<WebGpuKernel>[] = [
  attention,
  elementwiseBinary,
  elementwiseUnary,
  cast,
  where,
  variadic,
  matmul,
  gemm,
  conv,
  convTranspose,
  pool,
  normalization,
  softmax,
  reduce,
  reshape,
  transpose,
  concat,
  split,
  slice,
  gather,
  expand,
  pad,
  resize,
  tile,
  quantizeLinear,
  matmulInteger,
  qlinearMatmul,
  convInteger,
  qlinearConv,
  qlinearBinary,
  matmulNbits,
  dequantConv,
  quantizeDequantize,
  qlinearLookup,
  fusedNorm,
  biasActivation,
  embedLayerNorm,
  gatherBlockQuantized,
  rotaryEmbedding,
  cumsum,
  trilu,
  scatter,
  einsum,
  signal,
  topk,
  oneHot,
  dropout,
  gridSample,
  lrn,
  roiAlign,
  tensorScatter,
];

const byKey = new Map<string, WebGpuKernel>();
for (const table of tables) for (const [key, kernel] of Object.entries(table)) {
  if (byKey.has(key)) throw new Error(`WebGPU kernel ${key} registered twice`);
  byKey.set(key, kernel);
}

/** The op's WebGPU implementation, or undefined when it has none (its nodes run on the CPU). */
export function webgpuKernelFor(op: Pick<OpDefinition, 'domain' | 'opType'>): WebGpuKernel | undefined {
  return byKey.get(opKey(op.domain, op.opType));
}
