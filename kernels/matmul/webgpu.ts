import { activationOf } from '../common/activation.ts';
import { epilogueExtras, epilogueOf } from '../fused-elementwise/epilogue.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { tiledMatmulProgram, type MatmulOperand } from '../webgpu/tiled-matmul.ts';
import { problemOf } from './op.ts';

/** MatMul as one tiled GEMM program (performance notes: kernels/webgpu/tiled-matmul.ts). */
const matmul: WebGpuKernel = (inputs, outputs, ctx) => {
  const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  const act = activationOf(ctx.attrs);
  const epilogue = epilogueOf(ctx.attrs, ctx.node);
  const float = a.dtype === 'float32' || a.dtype === 'float16';
  if ((act.kind !== 'none' || epilogue) && !float) return undefined;
  const p = problemOf(a, b, bias, ctx);
  const extras = epilogueExtras(inputs, ctx.attrs, ctx.node);
  // an extra epilogue tensor larger than the product (broadcast up): the js kernel runs the node
  if (outputs[0]!.dims.length !== p.outDims.length || outputs[0]!.dims.some((d, i) => d !== p.outDims[i])) return undefined;
  if (outputs[0]!.dims.reduce((x, d) => x * d, 1) === 0) return { kind: 'programs', programs: [] };
  const zeros = p.batchDims.map(() => 0);
  let A: MatmulOperand = { meta: a, slot: 0, ...p.a };
  let B: MatmulOperand = { meta: b, slot: 1, ...p.b };
  let C: MatmulOperand | undefined = bias && { meta: bias, slot: 2, batchStrides: zeros, rowStride: 0, colStride: p.biasColStride! };
  let [M, N] = [p.M, p.N];
  // A matrix-vector product (N = 1) runs as its transpose, vector-matrix: the output layout is the
  // same and the kernel spreads work over columns, so every lane has a row of A instead of 1 in 4.
  if (N === 1 && M > 1) {
    [A, B] = [
      { ...B, rowStride: B.colStride, colStride: B.rowStride },
      { ...A, rowStride: A.colStride, colStride: A.rowStride },
    ];
    if (C) C = { ...C, rowStride: C.colStride, colStride: C.rowStride };
    [M, N] = [N, M];
  }
  const program = tiledMatmulProgram(
    { label: `MatMul:${ctx.node}`, M, N, K: p.K, batchDims: p.batchDims, a: A, b: B, c: C, activation: act, ...(epilogue ? { epilogue, epilogueExtras: extras, outDims: p.outDims } : {}), out: outputs[0]! },
    ctx.caps,
  );
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'MatMul')]: matmul };
