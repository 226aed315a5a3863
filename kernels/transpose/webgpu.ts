import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { asBatchedSwap, PERMUTE_OPS, permutedView, walk, type PermuteOp } from './op.ts';

const TILE = 16;

/**
 * A batched 2-D transpose ([B, R, C] -> [B, C, R]) through a 16x16 shared-memory tile, so both the
 * reads and the writes of a workgroup touch contiguous runs instead of one of them striding.
 */
function tiledTranspose(ctx: GpuKernelContext, label: string, x: TensorMeta, batch: number, rows: number, cols: number): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', x, 0);
  const Y = b.output('Y', { dtype: x.dtype, dims: [batch, cols, rows] });
  const tilesR = Math.ceil(rows / TILE);
  const tilesC = Math.ceil(cols / TILE);
  const R = b.uniform('rows', 'u32', rows);
  const C = b.uniform('cols', 'u32', cols);
  const TC = b.uniform('tiles_c', 'u32', tilesC);
  const TR = b.uniform('tiles_r', 'u32', tilesR);
  const NB = b.uniform('batch', 'u32', batch);
  const preamble = `var<workgroup> tile: array<${X.type}, ${TILE * (TILE + 1)}>;`;
  // workgroup_idx is uniform across the workgroup, so the early return keeps barriers uniform.
  const body = [
    `  let tiles = ${TC} * ${TR};`,
    `  if (workgroup_idx >= tiles * ${NB}) { return; }`,
    `  let bi = workgroup_idx / tiles;`,
    `  let t = workgroup_idx % tiles;`,
    `  let r0 = (t / ${TC}) * ${TILE}u;`,
    `  let c0 = (t % ${TC}) * ${TILE}u;`,
    `  let lr = local_idx / ${TILE}u;`,
    `  let lc = local_idx % ${TILE}u;`,
    `  let base = bi * ${R} * ${C};`,
    `  if (r0 + lr < ${R} && c0 + lc < ${C}) { tile[lr * ${TILE + 1}u + lc] = ${X.get(`base + (r0 + lr) * ${C} + c0 + lc`)}; }`,
    '  workgroupBarrier();',
    // now lr walks columns and lc walks rows of the output tile
    `  if (c0 + lr < ${C} && r0 + lc < ${R}) { ${Y.set(`base + (c0 + lr) * ${R} + r0 + lc`, `tile[lc * ${TILE + 1}u + lr]`)} }`,
  ].join('\n');
  const groups = batch * tilesR * tilesC;
  return b.build({ label, body, totalInvocations: groups * TILE * TILE, workgroupSize: TILE * TILE, preamble });
}

function permute(op: PermuteOp): WebGpuKernel {
  return (inputs, outputs, ctx): GpuLowering => {
    const x = inputs[0]!;
    const label = `${op}:${ctx.node}`;
    const w = walk(permutedView(op, x, ctx));
    const swap = asBatchedSwap(w.dims, w.strides);
    // Tiny swaps gain nothing from the tile; the plain gather has fewer idle invocations. Software
    // adapters take the gather too: a workgroup runs on one CPU thread there, so the tile buys no
    // coalescing, and its barrier switches every invocation's fiber (as in reduce/webgpu.ts).
    if (swap && swap[1] >= TILE && swap[2] >= TILE && !ctx.caps.software) return { kind: 'programs', programs: [tiledTranspose(ctx, label, x, ...swap)] };
    return { kind: 'programs', programs: outputs[0]!.dims.includes(0) ? [] : [stridedGatherProgram(ctx, label, x, 0, w.dims, w.strides, 0)] };
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(PERMUTE_OPS.map((op) => [opKey('', op), permute(op)]));
