import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { tileView } from './op.ts';

/** The rank-2n view as one strided gather. */
const tile: WebGpuKernel = (inputs, _outputs, ctx) => {
  const x = inputs[0]!;
  const v = tileView(x, ctx);
  if (product(v.out) === 0) return { kind: 'programs', programs: [] };
  return { kind: 'programs', programs: [stridedGatherProgram(ctx, `Tile:${ctx.node}`, x, 0, v.dims, v.strides, 0)] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Tile')]: tile };
