import { Tensor } from '../../core/tensor.ts';
import { activationOf } from '../common/activation.ts';
import { toNumbers } from '../common/values.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { packedBBytes, type WasmKernel, type WasmKernels, type WasmStep } from '../wasm/contract.ts';
import { wasmEpilogue } from '../wasm/epilogue.ts';
import { layoutOf } from './op.ts';

/**
 * Gemm on float32 over the wasm GEMM (gemmF32 + packBF32). A constant B (a Linear layer's weights)
 * is packed once, transB read by the packer, alpha folded into the packed values and a constant C
 * that is one row ([N], [1, N], a scalar) folded, times beta, into the panels' bias row. A B
 * computed at run time is packed per run into scratch. Any other C (per row, full matrix, or
 * computed at run time) is written as beta * C into Y first and the GEMM accumulates onto it.
 * The GEMM reads A row-major in place; with transA (rare: exporters write transB), or alpha != 1
 * and a B computed at run time, A' (times alpha) is first copied row-major into scratch by a JS
 * loop. Declines types other than float32.
 */
const gemm: WasmKernel = (inputs, outputs, ctx) => {
  const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (c && c.dtype !== 'float32')) return undefined;
  if (ctx.attrs.has('kiln_epilogue_steps')) return undefined; // a WebGPU-fusion epilogue: the js kernel applies it
  const transA = ctx.attrs.int('transA', 0) !== 0;
  const transB = ctx.attrs.int('transB', 0) !== 0;
  const l = layoutOf(a, b, c, ctx);
  const { M, N, K, alpha, beta } = l;
  const epilogue = wasmEpilogue(activationOf(ctx.attrs));
  const [flags, lo, hi] = epilogue.clamp;
  const activation = flags === 0 ? ({ kind: 'none' } as const) : ({ kind: 'clip', min: lo, max: hi } as const);
  if (outputs[0]!.dims.reduce((x, d) => x * d, 1) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const bConst = ctx.constants[1];
  const cConst = c ? ctx.constants[2] : undefined;
  const cIsRow = c !== undefined && l.c!.rowStride === 0;
  const ldb = Math.max(1, transB ? K : N);
  const panel = packedBBytes(K, N);
  // alpha goes into a constant B's packed values, else into the copy of A
  const aScale = bConst ? 1 : alpha;
  const copyA = transA || aScale !== 1;
  const aCopyBytes = copyA ? M * K * 4 : 0;
  /** A as the GEMM reads it (row-major M x K): in place, or copied (transposed, scaled) to `to`. */
  const aFor = (k: WasmKernels, aAt: number, to: number): number => {
    if (!copyA) return aAt;
    const src = new Float32Array(k.memory.buffer, aAt, M * K);
    const dst = new Float32Array(k.memory.buffer, to, M * K);
    const { rowStride, colStride } = l.a;
    for (let m = 0; m < M; m++) for (let kk = 0; kk < K; kk++) dst[m * K + kk] = aScale * src[m * rowStride + kk * colStride]!;
    return to;
  };

  /** Y = beta * C broadcast, before a GEMM that accumulates onto it. */
  const prefill = (k: WasmKernels, cAt: number, yAt: number): void => {
    const cs = c!.dims.reduce((x, d) => x * d, 1);
    const cv = new Float32Array(k.memory.buffer, cAt, cs);
    const y = new Float32Array(k.memory.buffer, yAt, M * N);
    const { rowStride, colStride } = l.c!;
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[m * N + n] = beta * cv[m * rowStride + n * colStride]!;
  };

  if (bConst) {
    const biasInPanel = cConst !== undefined && cIsRow;
    const needsPrefill = c !== undefined && !biasInPanel;
    const step: WasmStep = {
      reads: needsPrefill ? [0, 2] : [0],
      scratchBytes: aCopyBytes,
      persistentBytes: [panel],
      prepare(k, at) {
        const bv = alpha === 1 ? bConst : new Tensor('float32', Float32Array.from(toNumbers(bConst), (v) => alpha * v), bConst.dims);
        let biasAt: number | undefined;
        if (biasInPanel) {
          const cv = toNumbers(cConst);
          const row = Float32Array.from({ length: N }, (_, n) => beta * cv[n * l.c!.colStride]!);
          biasAt = at.stage(new Tensor('float32', row, [N]));
        }
        k.packBF32({ b: at.stage(bv), ldb, k: K, n: N, transB, bias: biasAt, out: at.persistent[0]! });
      },
      run(k, at) {
        if (needsPrefill) prefill(k, at.inputs[2]!, at.outputs[0]!);
        k.gemmF32({ a: aFor(k, at.inputs[0]!, at.scratch), lda: Math.max(1, K), bPacked: at.persistent[0]!, c: at.outputs[0]!, ldc: N, m: M, n: N, k: K, accumulate: needsPrefill, activation });
        epilogue.after(k, at.outputs[0]!, M * N);
      },
    };
    return step;
  }
  // a C of N values, beta 1: the packer's bias row reads it in place
  const biasInPanel = c !== undefined && cIsRow && l.c!.colStride === 1 && beta === 1;
  const needsPrefill = c !== undefined && !biasInPanel;
  return {
    reads: c ? [0, 1, 2] : [0, 1],
    scratchBytes: panel + aCopyBytes,
    persistentBytes: [],
    run(k, at) {
      k.packBF32({ b: at.inputs[1]!, ldb, k: K, n: N, transB, bias: biasInPanel ? at.inputs[2] : undefined, out: at.scratch });
      if (needsPrefill) prefill(k, at.inputs[2]!, at.outputs[0]!);
      k.gemmF32({ a: aFor(k, at.inputs[0]!, at.scratch + panel), lda: Math.max(1, K), bPacked: at.scratch, c: at.outputs[0]!, ldc: N, m: M, n: N, k: K, accumulate: needsPrefill, activation });
      epilogue.after(k, at.outputs[0]!, M * N);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Gemm')]: gemm };
