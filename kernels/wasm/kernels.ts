// The wasm implementations of every op family that has them, by opKey. Only the wasm backend
// imports this table. Ops without one run their js kernel inside the wasm backend.
import type { ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from './contract.ts';
import { wasm as matmul } from '../matmul/wasm.ts';
import { wasm as conv } from '../conv/wasm.ts';
import { wasm as gemm } from '../gemm/wasm.ts';
import { wasm as dequantConv } from '../dequant-conv/wasm.ts';
import { wasm as convTranspose } from '../conv-transpose/wasm.ts';
import { wasm as elementwiseUnary } from '../elementwise-unary/wasm.ts';
import { wasm as elementwiseBinary } from '../elementwise-binary/wasm.ts';
import { wasm as softmax } from '../softmax/wasm.ts';
import { wasm as normalization } from '../normalization/wasm.ts';
import { wasm as transpose } from '../transpose/wasm.ts';
import { wasm as reshape } from '../reshape/wasm.ts';
import { wasm as pool } from '../pool/wasm.ts';
import { wasm as reduce } from '../reduce/wasm.ts';
import { wasm as slice } from '../slice/wasm.ts';
import { wasm as concat } from '../concat/wasm.ts';
import { wasm as split } from '../split/wasm.ts';
import { wasm as fusedNorm } from '../fused-norm/wasm.ts';
import { wasm as biasActivation } from '../bias-activation/wasm.ts';
import { wasm as quantizeLinear } from '../quantize-linear/wasm.ts';
import { wasm as matmulInteger } from '../matmul-integer/wasm.ts';
import { wasm as qlinearMatmul } from '../qlinear-matmul/wasm.ts';
import { wasm as convInteger } from '../conv-integer/wasm.ts';
import { wasm as qlinearConv } from '../qlinear-conv/wasm.ts';
import { wasm as qlinearBinary } from '../qlinear-binary/wasm.ts';
import { wasm as quantizeDequantize } from '../quantize-dequantize/wasm.ts';
import { wasm as qlinearLookup } from '../qlinear-lookup/wasm.ts';
import { wasm as qlinearExcite } from '../qlinear-excite/wasm.ts';
import { wasm as matmulNBits } from '../matmul-nbits/wasm.ts';
import { wasm as resize } from '../resize/wasm.ts';
import { wasm as expand } from '../expand/wasm.ts';
import { wasm as attention } from '../attention/wasm.ts';
import { wasm as gather } from '../gather/wasm.ts';
import { wasm as where } from '../where/wasm.ts';
import { wasm as cast } from '../cast/wasm.ts';
import { wasm as compare } from '../elementwise-binary/wasm-compare.ts';
import { wasm as tile } from '../tile/wasm.ts';
import { wasm as kvCache } from '../kv-cache-write/wasm.ts';
import { wasm as causalConv } from '../causal-conv-with-state/wasm.ts';
import { wasm as linearAttention } from '../linear-attention/wasm.ts';

const tables: readonly ImplementationTable<WasmKernel>[] = [
  matmul, conv, gemm, dequantConv, convTranspose,
  elementwiseUnary, elementwiseBinary, softmax, normalization, transpose, reshape, pool, reduce, slice, concat, split,
  fusedNorm, biasActivation,
  quantizeLinear, matmulInteger, qlinearMatmul, convInteger, qlinearConv, qlinearBinary, quantizeDequantize, matmulNBits,
  resize, expand,
  qlinearLookup,
  qlinearExcite,
  attention,
  gather, where, cast, compare, tile,
  kvCache,
  causalConv, linearAttention,
];

const byKey = new Map<string, WasmKernel>();
for (const table of tables) for (const [key, kernel] of Object.entries(table)) {
  if (byKey.has(key)) throw new Error(`wasm kernel ${key} registered twice`);
  byKey.set(key, kernel);
}

/** The op's wasm implementation, or undefined when it has none (its nodes run their js kernel). */
export function wasmKernelFor(op: Pick<OpDefinition, 'domain' | 'opType'>): WasmKernel | undefined {
  return byKey.get(opKey(op.domain, op.opType));
}
