import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData, type DataType, type TensorData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput, requireRank } from '../common/shape.ts';
import { coalesce, stridedCopy } from '../common/strided.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { ShaderBuilder, stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuLowering, GpuProgram } from '../webgpu/contract.ts';

/**
 * Transpose, and DepthToSpace/SpaceToDepth, which are a transpose of a rank-6 view of the input.
 * Each op reduces to "view the input as (dims, perm)": the output walks the permuted axes, reading
 * the input with the permuted strides.
 */
interface PermutedView {
  /** the input seen with these dims (same element count) */
  readonly inDims: readonly number[];
  readonly perm: readonly number[];
}

function permOf(x: TensorMeta, ctx: KernelContext): number[] {
  const rank = x.dims.length;
  const perm = ctx.attrs.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => p < 0 || p >= rank)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Transpose perm [${perm.join(', ')}] is not a permutation of rank ${rank}`);
  }
  return [...perm];
}

function blockOf(x: TensorMeta, ctx: KernelContext): number {
  requireRank(x, [4], ctx);
  const b = ctx.attrs.int('blocksize');
  if (b === undefined || b < 1) fail('INVALID_GRAPH', `node '${ctx.node}': blocksize must be a positive integer, got ${b}`);
  return b;
}

const VIEWS: Record<string, (x: TensorMeta, ctx: KernelContext) => PermutedView> = {
  Transpose: (x, ctx) => ({ inDims: x.dims, perm: permOf(x, ctx) }),
  DepthToSpace: (x, ctx) => {
    const b = blockOf(x, ctx);
    const [n, c, h, w] = x.dims as [number, number, number, number];
    if (c % (b * b) !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': channels ${c} are not divisible by blocksize^2 = ${b * b}`);
    const mode = ctx.attrs.string('mode', 'DCR');
    if (mode === 'DCR') return { inDims: [n, b, b, c / (b * b), h, w], perm: [0, 3, 4, 1, 5, 2] };
    if (mode === 'CRD') return { inDims: [n, c / (b * b), b, b, h, w], perm: [0, 1, 4, 2, 5, 3] };
    return fail('INVALID_GRAPH', `node '${ctx.node}': DepthToSpace mode '${mode}' is not DCR or CRD`);
  },
  SpaceToDepth: (x, ctx) => {
    const b = blockOf(x, ctx);
    const [n, c, h, w] = x.dims as [number, number, number, number];
    if (h % b !== 0 || w % b !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': spatial dims ${h}x${w} are not divisible by blocksize ${b}`);
    return { inDims: [n, c, h / b, b, w / b, b], perm: [0, 3, 5, 1, 2, 4] };
  },
};

function outDimsOf(op: string, x: TensorMeta, v: PermutedView, ctx: KernelContext): number[] {
  if (op === 'Transpose') return v.perm.map((p) => v.inDims[p]!);
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const b = blockOf(x, ctx);
  return op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b];
}

/** The permuted axes of the view and the input stride each one walks. */
function walk(v: PermutedView): { dims: number[]; strides: number[] } {
  const s = stridesOf(v.inDims);
  return { dims: v.perm.map((p) => v.inDims[p]!), strides: v.perm.map((p) => s[p]!) };
}

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

/** [B, R, C] -> [B, C, R] when the coalesced walk is exactly that (row/column swap per batch). */
function asBatchedSwap(dims: readonly number[], strides: readonly number[]): [number, number, number] | undefined {
  const c = coalesce(dims, strides);
  const [d, s] = [c.dims, c.strides];
  if (d.length === 2 && s[1] === d[0] && s[0] === 1) return [1, d[1]!, d[0]!];
  if (d.length === 3 && s[2] === d[1] && s[1] === 1 && s[0] === d[1]! * d[2]!) return [d[0]!, d[2]!, d[1]!];
  return undefined;
}

type Cells = { [i: number]: number | bigint | string; readonly length: number };
const BLOCK = 32;

/** CPU [B, R, C] -> [B, C, R] in 32x32 blocks, so both sides stay in cache. */
function blockedSwap(src: TensorData, batch: number, rows: number, cols: number, dtype: DataType): TensorData {
  const data = allocData(dtype, batch * rows * cols);
  const o: Cells = data;
  const s: Cells = src;
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK);
      for (let c0 = 0; c0 < cols; c0 += BLOCK) {
        const c1 = Math.min(cols, c0 + BLOCK);
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) o[base + c * rows + r] = s[base + r * cols + c]!;
      }
    }
  }
  return data;
}

function makeKernel(opType: string): LegacyOpKernel {
  const viewOf = VIEWS[opType]!;
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    const x = requireInput(inputs, 0, ctx);
    return [{ dtype: x.dtype, dims: outDimsOf(opType, x, viewOf(x, ctx), ctx) }];
  };
  return {
    opType,
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const meta = { dtype: x.type, dims: x.dims };
      const [out] = infer([meta], ctx);
      const w = walk(viewOf(meta, ctx));
      const swap = asBatchedSwap(w.dims, w.strides);
      if (swap) return [new Tensor(x.type, blockedSwap(x.data, ...swap, x.type), out!.dims)];
      const c = coalesce(w.dims, w.strides);
      return [stridedCopy(x, c.dims, c.strides, 0, out!.dims)];
    },
    webgpu(inputs, outputs, ctx): GpuLowering {
      const x = inputs[0]!;
      const label = `${opType}:${ctx.node}`;
      const w = walk(viewOf(x, ctx));
      const swap = asBatchedSwap(w.dims, w.strides);
      // Tiny swaps gain nothing from the tile; the plain gather has fewer idle invocations.
      if (swap && swap[1] >= TILE && swap[2] >= TILE) return { kind: 'programs', programs: [tiledTranspose(ctx, label, x, ...swap)] };
      return { kind: 'programs', programs: outputs[0]!.dims.includes(0) ? [] : [stridedGatherProgram(ctx, label, x, 0, w.dims, w.strides, 0)] };
    },
  };
}

export const kernels: readonly LegacyOpKernel[] = ['Transpose', 'DepthToSpace', 'SpaceToDepth'].map(makeKernel);
