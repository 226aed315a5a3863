import type { ConvGeometry } from '../common/conv-attributes.ts';
import type { GpuCaps, GpuProgram } from '../webgpu/contract.ts';
import { intConvEpilogue, type IntConvGpuSpec } from './webgpu.ts';
import { depthwiseTaps } from '../conv/webgpu-depthwise-taps.ts';

// ---------------------------------------------------------------------------------------------
// The integer conv's depthwise form: the float conv's 'dw' form (conv/webgpu-program.ts) in i32.
// One input channel per group: each invocation takes TM output channels of one group (the depth
// multiplier) x a TY x TN block of output positions, loads all its weights once and each input
// row and column of the block's footprint once, and reuses every loaded value for each (output
// row, kernel row) and (position, kernel column) pair that lands on it. Kernel size, strides and
// dilations are baked (they decide which loads exist): one pipeline per kernel pattern. The
// generic form reloads x per tap and per channel tile: on SwiftShader a 3x3 depthwise conv was
// the int8 model's slowest layer kind (docs/decisions.md, gpu-qdq).
// ---------------------------------------------------------------------------------------------

const MAX_KERNEL = 7;
const MAX_STEP = 4;

/** Whether the depthwise form runs this conv: 2-D, one input channel per group, small baked kernel and steps. */
export function intConvDwApplies(g: ConvGeometry): boolean {
  if (g.transpose || g.inDims.length !== 2 || g.cinG !== 1) return false;
  return g.kernel.every((k) => k <= MAX_KERNEL) && g.strides.every((s) => s <= MAX_STEP) && g.dilations.every((d) => d <= MAX_STEP);
}

function dwTile(g: ConvGeometry, caps: GpuCaps): { tm: number; ty: number; tn: number; footprint: number; cols: number } {
  const tm = Math.min(4, g.coutG);
  const [ty, tn] = caps.software ? [4, 8] : [2, 4];
  const footprint = (ty - 1) * g.strides[0]! + (g.kernel[0]! - 1) * g.dilations[0]! + 1;
  const cols = (tn - 1) * g.strides[1]! + (g.kernel[1]! - 1) * g.dilations[1]! + 1;
  return { tm, ty, tn, footprint, cols };
}

/** How many times the depthwise form reads each x element (at most): per channel tile, its footprint over its block. */
export function intConvDwRereads(g: ConvGeometry, caps: GpuCaps): number {
  const t = dwTile(g, caps);
  return Math.ceil(g.coutG / t.tm) * Math.ceil((t.footprint * t.cols) / (t.ty * t.tn));
}

export function intConvDwProgram(spec: IntConvGpuSpec): GpuProgram {
  const { b, X, W, Y, geo: g } = spec;
  const { tm, ty, tn } = dwTile(g, b.caps);
  const np = ty * tn;
  const [kh, kw] = [g.kernel[0]!, g.kernel[1]!];
  const [sy, sx] = [g.strides[0]!, g.strides[1]!];
  const [dy, dx] = [g.dilations[0]!, g.dilations[1]!];
  const tilesPerRow = Math.ceil(g.outDims[1]! / tn);
  const rowTiles = Math.ceil(g.outDims[0]! / ty);
  const items = g.batch * rowTiles * tilesPerRow;
  const ncb = Math.ceil(g.coutG / tm);
  const total = items === 0 || g.coutG === 0 ? 0 : g.group * ncb * items;
  const dims = b.uniformArray('dw_dims', 'u32', [total, items, ncb, tilesPerRow, rowTiles, g.coutG]);
  const pads = b.uniformArray('conv_pads', 'i32', g.padBegin);
  const xAt = (off: string): string => (spec.loadX ? spec.loadX(off) : `i32(${X.get(off)})`);
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${dims}(0u)) { return; }`);
  line(`let item = global_idx % ${dims}(1u);`);
  line(`let grp = (global_idx / ${dims}(1u)) / ${dims}(2u);`);
  line(`let co0 = ((global_idx / ${dims}(1u)) % ${dims}(2u)) * ${tm}u;`);
  line(`let cout_g = ${dims}(5u);`);
  line(`let in0 = ${X.shape(2)}; let in1 = ${X.shape(3)}; let xs0 = ${X.stride(2)};`);
  line(`let out_h = ${Y.shape(2)}; let out_w = ${Y.shape(3)}; let out_s = ${Y.stride(1)};`);
  line(`let rt = item / ${dims}(3u);`);
  line(`let ox0 = (item % ${dims}(3u)) * ${tn}u;`);
  line(`let oy0 = (rt % ${dims}(4u)) * ${ty}u;`);
  line(`let bt = rt / ${dims}(4u);`);
  line(`let xb = bt * ${X.stride(0)} + grp * ${X.stride(1)};`);
  line(`let xzp = ${spec.xzp};`);
  // weights (w - w_zero_point) of the tile's channels, each loaded once
  for (let i = 0; i < tm; i++) {
    line(`let ch${i} = grp * cout_g + min(co0 + ${i}u, cout_g - 1u);`);
    line(`let wz${i} = ${spec.wzp(`ch${i}`)};`);
    for (let k = 0; k < kh * kw; k++) line(`let s${i}_${k} = i32(${W.get(`ch${i} * ${kh * kw}u + ${k}u`)}) - wz${i};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < np; j++) line(`var acc${i}_${j} = 0;`);
  // a padded position contributes x = x_zero_point: 0 after the subtraction
  depthwiseTaps(line, { tm, ty, tn, kh, kw, sy, sx, dy, dx }, pads, (o, ok) => `select(0, ${xAt(o)} - xzp, ${ok})`);
  intConvEpilogue(L, spec, {
    tm,
    tn: np,
    accOf: (i, j) => `acc${i}_${j}`,
    chOf: (i) => `ch${i}`,
    outOf: (j) => `bt * ${Y.stride(0)} + (oy0 + ${Math.floor(j / tn)}u) * out_w + ox0 + ${j % tn}u`,
    channelOk: (i) => `co0 + ${i}u < cout_g`,
    posOk: (j) => `oy0 + ${Math.floor(j / tn)}u < out_h && ox0 + ${j % tn}u < out_w`,
  });
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: total });
}
