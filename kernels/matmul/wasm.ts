import { activationOf } from '../common/activation.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { packedBBytes, type WasmKernel, type WasmStep } from '../wasm/contract.ts';
import { wasmEpilogue } from '../wasm/epilogue.ts';
import { problemOf } from './op.ts';

/** Row-major multi-index of batch z, dotted with per-dim element strides. */
function batchOffset(z: number, dims: readonly number[], strides: readonly number[]): number {
  let off = 0;
  for (let d = dims.length - 1, rest = z; d >= 0; d--) {
    off += (rest % dims[d]!) * strides[d]!;
    rest = Math.floor(rest / dims[d]!);
  }
  return off;
}

/**
 * MatMul on float32 as one wasm GEMM per batch matrix. A constant B (weights) is packed once at
 * session start, with the fused bias in its bias row; a B computed at run time is packed per run
 * into scratch. Fused Relu/Clip are the GEMM's clamp; other activations one pass over each output
 * matrix while it is in cache (kernels/wasm/epilogue.ts).
 */
const matmul: WasmKernel = (inputs, outputs, ctx) => {
  const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  if (ctx.attrs.has('kiln_epilogue_steps')) return undefined; // a WebGPU-fusion epilogue: the js kernel applies it
  const epilogue = wasmEpilogue(activationOf(ctx.attrs));
  const [flags, lo, hi] = epilogue.clamp;
  const activation = flags === 0 ? ({ kind: 'none' } as const) : ({ kind: 'clip', min: lo, max: hi } as const);
  const p = problemOf(a, b, bias, ctx);
  if (bias && p.biasColStride === 0) return undefined; // a single broadcast bias value: not in the packed layout
  const { M, N, K } = p;
  const batch = p.batchDims.reduce((x, d) => x * d, 1);
  const aOffsets = Array.from({ length: batch }, (_, z) => batchOffset(z, p.batchDims, p.a.batchStrides) * 4);
  const bOffsets = Array.from({ length: batch }, (_, z) => batchOffset(z, p.batchDims, p.b.batchStrides) * 4);
  // One B for every batch matrix and A's matrices back to back (A [b, M, K] times a 2-D B): one GEMM
  // of batch * M rows reads B once instead of once per matrix (batch * M can reach the 4-row tiles
  // where M = 1 alone would stream B per row).
  const foldBatch = batch > 1 && bOffsets.every((o) => o === bOffsets[0]) && aOffsets.every((o, z) => o === z * M * K * 4);
  const calls = foldBatch ? 1 : batch;
  const rows = foldBatch ? batch * M : M;
  const panel = packedBBytes(K, N);
  const out = outputs[0]!;
  if (out.dims.reduce((x, d) => x * d, 1) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const bConst = ctx.constants[1];
  const biasConst = bias ? ctx.constants[2] : undefined;

  if (bConst && (!bias || biasConst)) {
    // Weights: each distinct B matrix of the batch packed once, bias row included.
    const distinct = [...new Set(bOffsets)];
    const step: WasmStep = {
      reads: [0],
      scratchBytes: 0,
      persistentBytes: [distinct.length * panel],
      prepare(k, at) {
        const bAt = at.stage(bConst);
        const biasAt = biasConst ? at.stage(biasConst) : undefined;
        distinct.forEach((off, j) => k.packBF32({ b: bAt + off, ldb: Math.max(1, N), k: K, n: N, bias: biasAt, out: at.persistent[0]! + j * panel }));
      },
      run(k, at) {
        for (let z = 0; z < calls; z++) {
          const packed = at.persistent[0]! + distinct.indexOf(bOffsets[z]!) * panel;
          k.gemmF32({ a: at.inputs[0]! + aOffsets[z]!, lda: Math.max(1, K), bPacked: packed, c: at.outputs[0]! + z * M * N * 4, ldc: N, m: rows, n: N, k: K, activation });
          epilogue.after(k, at.outputs[0]! + z * M * N * 4, rows * N);
        }
      },
    };
    return step;
  }
  return {
    reads: bias ? [0, 1, 2] : [0, 1],
    scratchBytes: panel,
    persistentBytes: [],
    run(k, at) {
      let packedFrom = -1;
      for (let z = 0; z < calls; z++) {
        if (bOffsets[z] !== packedFrom) {
          k.packBF32({ b: at.inputs[1]! + bOffsets[z]!, ldb: Math.max(1, N), k: K, n: N, bias: bias ? at.inputs[2] : undefined, out: at.scratch });
          packedFrom = bOffsets[z]!;
        }
        k.gemmF32({ a: at.inputs[0]! + aOffsets[z]!, lda: Math.max(1, K), bPacked: at.scratch, c: at.outputs[0]! + z * M * N * 4, ldc: N, m: rows, n: N, k: K, activation });
        epilogue.after(k, at.outputs[0]! + z * M * N * 4, rows * N);
      }
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'MatMul')]: matmul };
