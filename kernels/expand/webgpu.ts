import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { expandView } from './op.ts';

/** The broadcast view as one strided gather (stride 0 on broadcast axes). */
const expand: WebGpuKernel = (inputs, _outputs, ctx) => {
  const x = inputs[0]!;
  const v = expandView(x, ctx);
  if (product(v.dims) === 0) return { kind: 'programs', programs: [] };
  return { kind: 'programs', programs: [stridedGatherProgram(ctx, `Expand:${ctx.node}`, x, 0, v.dims, v.strides, 0)] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Expand')]: expand };
