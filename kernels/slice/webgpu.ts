import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { sliceView } from './op.ts';

/** The slice's affine view as one strided gather. */
const slice: WebGpuKernel = (inputs, _outputs, ctx) => {
  const x = inputs[0]!;
  const v = sliceView(x, ctx);
  if (v.dims.includes(0)) return { kind: 'programs', programs: [] };
  return { kind: 'programs', programs: [stridedGatherProgram(ctx, `Slice:${ctx.node}`, x, 0, v.dims, v.strides, v.base)] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Slice')]: slice };
