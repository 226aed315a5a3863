import { activationOf } from '../common/activation.ts';
import { epilogueExtras, epilogueOf } from '../fused-elementwise/epilogue.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { tiledMatmulProgram } from '../webgpu/tiled-matmul.ts';
import { layoutOf } from './op.ts';

/** Gemm as one tiled GEMM program: transposes and C's broadcast are strides. */
const gemm: WebGpuKernel = (inputs, outputs, ctx) => {
  const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
  const l = layoutOf(a, b, c, ctx);
  const act = activationOf(ctx.attrs);
  // The integer kernel has no alpha/beta scaling or activation: such rare nodes run on the CPU.
  const float = a.dtype === 'float32' || a.dtype === 'float16';
  const epilogue = epilogueOf(ctx.attrs, ctx.node);
  if (!float && (l.alpha !== 1 || (c && l.beta !== 1) || act.kind !== 'none' || epilogue)) return undefined;
  const extras = epilogueExtras(inputs, ctx.attrs, ctx.node);
  // an extra epilogue tensor larger than [M, N] (broadcast up): the js kernel runs the node
  const out = outputs[0]!.dims;
  if (out.length !== 2 || out[0] !== l.M || out[1] !== l.N) return undefined;
  if (l.M * l.N === 0) return { kind: 'programs', programs: [] };
  const program = tiledMatmulProgram(
    {
      label: `Gemm:${ctx.node}`,
      M: l.M,
      N: l.N,
      K: l.K,
      batchDims: [],
      a: { meta: a, slot: 0, batchStrides: [], ...l.a },
      b: { meta: b, slot: 1, batchStrides: [], ...l.b },
      c: c && { meta: c, slot: 2, batchStrides: [], ...l.c! },
      alpha: l.alpha,
      beta: l.beta,
      activation: act,
      ...(epilogue ? { epilogue, epilogueExtras: extras, outDims: [l.M, l.N] } : {}),
      out: outputs[0]!,
    },
    ctx.caps,
  );
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Gemm')]: gemm };
