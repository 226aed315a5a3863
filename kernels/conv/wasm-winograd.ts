import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../common/values.ts';
import { MAX_ROW_PARTS, type WasmKernels, type WasmStep, type WasmStepAddresses } from '../wasm/contract.ts';
import { oncePerLayout } from '../wasm/once-per-layout.ts';

/**
 * 3x3 stride-1 float convs (group 1, no dilation) as Winograd F(2x2, 3x3) (kernels/wasm/src/
 * conv-winograd.c): 16 products per 2x2 output tile and channel pair instead of 36. Taken where the
 * channel counts make the transforms worth it (at least MIN_CHANNELS in and out) and W is a constant
 * (transformed once per session). A fused activation other than the clamp, and an elementwise chain
 * after the conv (a tail, kernels/wasm/tail.ts), run on each unit's output rows once they are stored.
 * The answers differ from im2col's by rounding only: the transforms add and subtract up to 4 values
 * (test/ops/conv-winograd.test.ts holds them to the reference).
 */
export const MIN_CHANNELS = 16;

/** Whether a 2-D conv's shape takes the Winograd form (its weight must also be a constant, its activation the clamp). */
export function winogradShape(c: { readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number; readonly dh: number; readonly dw: number; readonly group: number; readonly cin: number; readonly cout: number }): boolean {
  return c.group === 1 && c.kh === 3 && c.kw === 3 && c.sh === 1 && c.sw === 1 && c.dh === 1 && c.dw === 1 && c.cin >= MIN_CHANNELS && c.cout >= MIN_CHANNELS;
}

/**
 * Tile rows per unit (`band`): a unit's tiles are its GEMMs' N, computed in panels of 8 columns, so
 * a count that is no multiple of 8 pays for the padded columns (56x56 maps: 28 tiles a row, 4 panels
 * for 3.5). Among the bands giving 32 to 64 tiles (one tile row where a row alone has more) the one
 * with the fewest padded columns per tile, the smaller on ties. conv3x3-64x64-56 in Node: 1 tile
 * row (28 tiles) 3.00 / 2.25 ms, 2 rows (56) 2.69 / 1.83 ms at 1 / 2 threads.
 */
export function winogradBand(tw4: number): number {
  const lo = Math.max(1, Math.floor(32 / tw4)), hi = Math.max(lo, Math.floor(64 / tw4));
  let best = lo, bestWaste = Infinity;
  for (let b = lo; b <= hi; b++) {
    const tiles = b * tw4, waste = (Math.ceil(tiles / 8) * 8 - tiles) / tiles;
    if (waste < bestWaste) [best, bestWaste] = [b, waste];
  }
  return best;
}

/** G g G^T for every (output, input) channel pair of W [cout, cin, 3, 3], as [16][cout][cin] (position 4i + j). */
export function winogradWeights(w: ArrayLike<number>, cout: number, cin: number): Float32Array {
  const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]] as const;
  const u = new Float32Array(16 * cout * cin);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      const g = (r: number, c: number): number => w[((co * cin + ci) * 3 + r) * 3 + c]!;
      for (let i = 0; i < 4; i++) {
        const gi = G[i]!;
        const row = [0, 1, 2].map((c) => gi[0] * g(0, c) + gi[1] * g(1, c) + gi[2] * g(2, c)); // (G g)[i]
        for (let j = 0; j < 4; j++) {
          const gj = G[j]!;
          u[((4 * i + j) * cout + co) * cin + ci] = gj[0] * row[0]! + gj[1] * row[1]! + gj[2] * row[2]!;
        }
      }
    }
  }
  return u;
}

export interface WinogradConv {
  readonly batch: number; readonly cin: number; readonly cout: number;
  readonly ih: number; readonly iw: number; readonly oh: number; readonly ow: number;
  readonly ph: number; readonly pw: number;
  /** the GEMM clamp: flags (2 = clamp), lo, hi */
  readonly clamp: readonly [number, number, number];
}

/** The f32 arguments (lo, hi) of kiln_conv_winograd_f32, as parallelRows' bit mask. */
const WINOGRAD_FLOATS = (1 << 16) | (1 << 17);

/**
 * The step for X, W (a constant: `weight`), B (slots 0, 1, 2). `act`: the conv's activation program
 * when it is not the clamp (kept after U, persistent slot 1); `tail`: the last 4 arguments (the
 * program each unit's rows go through: that activation, or the backend's tail with it).
 */
export function winogradStep(c: WinogradConv, weight: AnyTensor, hasBias: boolean, act: Int32Array, tail: (at: WasmStepAddresses) => number[]): WasmStep {
  const th = Math.ceil(c.oh / 2), tw = Math.ceil(c.ow / 2), tw4 = Math.ceil(tw / 4) * 4;
  const band = winogradBand(tw4);
  const tiles = band * tw4;
  const panels = Math.ceil(tiles / 8);
  // conv-winograd.c's scratch: the input band, V (16 packed panel sets), M (16 GEMM outputs)
  const unitFloats = (2 * band + 2) * (2 * tw4 + 8) + 16 * panels * (c.cin + 1) * 8 + 16 * c.cout * tiles;
  const units = c.batch * Math.ceil(th / band);
  const uBytes = 16 * c.cout * c.cin * 4;
  const [flags, lo, hi] = c.clamp;
  const call = oncePerLayout((at) => ({
    args: [at.inputs[0]!, at.persistent[0]!, hasBias ? at.inputs[2]! : 0, at.outputs[0]!, at.scratch, c.batch, c.cin, c.cout, c.ih, c.iw, c.oh, c.ow, c.ph, c.pw, band, flags, lo, hi, ...tail(at)],
    floats: WINOGRAD_FLOATS, rows: units, scratchArg: 4, scratchStride: unitFloats * 4, work: 16 * c.cout * c.cin * tiles * units,
  }));
  return {
    reads: [0, ...(hasBias ? [2] : [])],
    scratchBytes: Math.min(MAX_ROW_PARTS, units) * unitFloats * 4,
    persistentBytes: [uBytes, ...(act.length ? [act.length * 4] : [])],
    prepare(k: WasmKernels, at) {
      new Float32Array(k.memory.buffer, at.persistent[0]!, uBytes / 4).set(winogradWeights(toNumbers(weight), c.cout, c.cin));
      if (act.length) new Int32Array(k.memory.buffer, at.persistent[1]!, act.length).set(act);
    },
    run: (k: WasmKernels, at: WasmStepAddresses) => k.parallelRows('kiln_conv_winograd_f32', call(at)),
  };
}
