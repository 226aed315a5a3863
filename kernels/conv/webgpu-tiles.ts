import type { ConvGeometry } from '../common/conv-attributes.ts';
import type { GpuCaps } from '../webgpu/contract.ts';

// ---------------------------------------------------------------------------------------------
// WebGPU: implicit GEMM, Y[co][n] = sum over (ci, tap) of W[co][ci][tap] * X[ci][pos(n, tap)].
// Each invocation keeps a TM x TN register tile: TM output channels of one group x TN output
// positions, f32 accumulators in registers. Forms, by pattern:
// - 'taps' form (any rank, ConvTranspose too): taps outer, input channels inner, so the bounds and
//   stride checks of a (tap, position) are paid once per tap, not once per multiply-add.
// - 'rows' form (2-D Conv): an invocation's TN positions are consecutive in one output row, so
//   for each kernel row it loads each input column of the segment once ((TN-1)*sx + (kw-1)*dx + 1
//   values at most) and reuses it for all kw taps (kw, x stride and x dilation are baked: one
//   pipeline per kernel pattern, not per shape).
// - 'dw' form (depthwise 2-D, small strides and dilations, baked): a ty x tn block per
//   invocation, all weights of its channel loaded once, each input row of its footprint once.
// - 'trows' form (2-D ConvTranspose): one output row and column phase per invocation; only the
//   kernel rows and columns that feed it are visited.
// Loads per multiply-add decide the speed on SwiftShader (measurements at the top of this file).
// With `subgroups` the four lanes of a quad share their TM output channels: each lane loads every
// fourth weight the step needs and quadBroadcast hands them around, so per input channel and tap a
// quad issues TM/4 weight loads instead of TM (kernels/common/tiled-matmul.ts: same for MatMul).
// On hardware GPUs (not measured here) small plain tiles keep the accumulators in registers.
// ---------------------------------------------------------------------------------------------

export interface TileConfig {
  readonly form: 'taps' | 'rows' | 'dw' | 'trows';
  /** output rows per invocation ('dw' form; 1 otherwise) */
  readonly ty: number;
  /** output channels per invocation (shared by a quad when `quad`) */
  readonly tm: number;
  /** output positions per invocation */
  readonly tn: number;
  readonly wg: number;
  readonly quad: boolean;
  /** input channels per loop iteration (at most): longer straight-line bodies run faster */
  readonly unroll: number;
}

const MAX_ROW_KERNEL = 7;
/** strides and dilations up to this are baked into the 2-D forms' unrolled loads */
const MAX_BAKED_STEP = 4;

export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function tileFor(g: ConvGeometry, caps: GpuCaps): TileConfig {
  const soft = caps.software;
  const small = (v: number): boolean => v <= MAX_BAKED_STEP;
  const rows = !g.transpose && g.inDims.length === 2 && small(g.strides[1]!) && small(g.dilations[1]!) && g.kernel[1]! <= MAX_ROW_KERNEL;
  const dw = rows && g.cinG === 1 && g.kernel[0]! <= MAX_ROW_KERNEL && small(g.strides[0]!) && small(g.dilations[0]!);
  const maxTm = soft && !dw ? 16 : 4;
  const tm = g.coutG >= maxTm ? maxTm : g.coutG >= 8 ? 8 : g.coutG >= 4 ? 4 : g.coutG;
  const quad = soft && caps.subgroups;
  // measured on SwiftShader (see the top of this file); hardware GPUs get small plain tiles
  // 2-D ConvTranspose: each invocation takes output columns of one phase (ox = p mod stride) so
  // a kernel column either feeds all of them or none
  if (g.transpose && g.inDims.length === 2 && g.kernel[1]! <= MAX_ROW_KERNEL && small(g.strides[1]!)) return { form: 'trows', ty: 1, tm, tn: soft ? 8 : 4, wg: soft ? 32 : 64, quad, unroll: 1 };
  if (dw) return { form: 'dw', ty: soft ? 4 : 2, tm, tn: soft ? 8 : 4, wg: soft ? 32 : 64, quad, unroll: 1 };
  // one output column (squeeze-excite convs after a global pool, classifier heads): a row of tn
  // positions would be one position and tn - 1 clamped copies, each loaded, multiplied and quantized
  const single = rows ? g.outDims[1] === 1 : g.outDims.every((d) => d === 1);
  return { form: rows ? 'rows' : 'taps', ty: 1, tm, tn: single ? 1 : soft ? 8 : 4, wg: soft ? 32 : 64, quad, unroll: rows ? 1 : 4 };
}
