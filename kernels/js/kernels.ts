// The plain-TypeScript (js backend) implementations, by opKey: the fast paths of families that have
// one. An op without one runs its reference, which is correct but written for clarity.
import type { CpuKernel, ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import { js as matmul } from '../matmul/js.ts';
import { js as transpose } from '../transpose/js.ts';
import { js as slice } from '../slice/js.ts';
import { js as expand } from '../expand/js.ts';
import { js as tile } from '../tile/js.ts';
import { js as quantizeDequantize } from '../quantize-dequantize/js.ts';
import { js as qlinearLookup } from '../qlinear-lookup/js.ts';
import { js as convInteger } from '../conv-integer/js.ts';
import { js as qlinearConv } from '../qlinear-conv/js.ts';
import { js as quantizeLinear } from '../quantize-linear/js.ts';
import { js as matmulNbits } from '../matmul-nbits/js.ts';
import { js as dequantConv } from '../dequant-conv/js.ts';
import { js as attention } from '../attention/js.ts';
import { js as elementwiseBinary } from '../elementwise-binary/js.ts';
import { js as elementwiseUnary } from '../elementwise-unary/js.ts';
import { js as gemm } from '../gemm/js.ts';
import { js as conv } from '../conv/js.ts';
import { js as convTranspose } from '../conv-transpose/js.ts';
import { js as reduce } from '../reduce/js.ts';
import { js as pool } from '../pool/js.ts';
import { js as fusedNorm } from '../fused-norm/js.ts';
import { js as biasActivation } from '../bias-activation/js.ts';
import { js as rotaryEmbedding } from '../rotary-embedding/js.ts';
import { js as embedLayerNorm } from '../embed-layer-norm/js.ts';
import { js as gatherBlockQuantized } from '../gather-block-quantized/js.ts';

const tables: readonly ImplementationTable<CpuKernel>[] = [
  elementwiseBinary, elementwiseUnary, matmul, gemm, conv, convTranspose, reduce, pool,
  transpose, slice, expand, tile, quantizeDequantize, quantizeLinear, convInteger, qlinearConv, matmulNbits, dequantConv,
  fusedNorm, biasActivation, rotaryEmbedding, embedLayerNorm, gatherBlockQuantized,
  attention,
  qlinearLookup,
];

const byKey = new Map<string, CpuKernel>();
for (const table of tables) for (const [key, kernel] of Object.entries(table)) {
  if (byKey.has(key)) throw new Error(`js kernel ${key} registered twice`);
  byKey.set(key, kernel);
}

/** What the js backend runs for an op: its fast path, or its reference. */
export function jsKernelFor(op: OpDefinition): CpuKernel {
  return byKey.get(opKey(op.domain, op.opType)) ?? op.reference;
}
