// The WebGPU implementations of every op family that has them, by opKey. Only the WebGPU backend
// imports this table, so builds without it leave the WGSL out. Families whose ops always fold at
// plan time (constant, shape) have no webgpu.ts.
import type { ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import { lazyWebGpuKernel } from '../lazy-families.ts';
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
import { webgpu as fusedElementwise } from '../fused-elementwise/webgpu.ts';

const tables: readonly ImplementationTable<WebGpuKernel>[] = [
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
  fusedElementwise,
];

const byKey = new Map<string, WebGpuKernel>();
for (const table of tables) for (const [key, kernel] of Object.entries(table)) {
  if (byKey.has(key)) throw new Error(`WebGPU kernel ${key} registered twice`);
  byKey.set(key, kernel);
}

/** The op's WebGPU implementation, or undefined when it has none (its nodes run on the CPU). */
export function webgpuKernelFor(op: Pick<OpDefinition, 'domain' | 'opType'>): WebGpuKernel | undefined {
  const key = opKey(op.domain, op.opType);
  return byKey.get(key) ?? lazyWebGpuKernel(key);
}
