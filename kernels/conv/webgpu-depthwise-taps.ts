// The tap loop of the depthwise WGSL forms (float: webgpu-program.ts, int8: conv-integer/webgpu-dw.ts).
// A thread owns `tm` channels x a `ty` x `tn` block of outputs; each input column and row of the
// block's footprint is read once and feeds every (position, tap) and (output row, kernel row) pair
// that lands on it. Strides and dilations are baked: they decide which loads exist.

export interface DepthwiseTile {
  readonly tm: number;
  readonly ty: number;
  readonly tn: number;
  readonly kh: number;
  readonly kw: number;
  readonly sy: number;
  readonly sx: number;
  readonly dy: number;
  readonly dx: number;
}

/**
 * Emits the accumulation into acc{i}_{row * tn + j} from weights s{i}_{tap} (declared by the caller,
 * as are in0/in1 bounds, xs0 the row stride, xb the channel base, oy0/ox0 the block origin).
 * `load(offset, ok)` is the WGSL of one input value at `offset`, and of the padding value where `ok`
 * is false (0 for float; x - x_zero_point = 0 for int8).
 */
export function depthwiseTaps(line: (s: string) => void, t: DepthwiseTile, pads: string, load: (offset: string, ok: string) => string): void {
  const { tm, ty, tn, kh, kw, sy, sx, dy, dx } = t;
  const usedCols = new Set<number>();
  for (let j = 0; j < tn; j++) for (let kx = 0; kx < kw; kx++) usedCols.add(j * sx + kx * dx);
  for (const m of usedCols) {
    line(`let ix${m} = u32(i32(ox0 * ${sx}u + ${m}u) - ${pads}(1u));`);
    line(`let cok${m} = ix${m} < in1;`);
    line(`let cx${m} = select(0u, ix${m}, cok${m});`);
  }
  const footprint = (ty - 1) * sy + (kh - 1) * dy + 1;
  for (let r = 0; r < footprint; r++) {
    const pairs: [number, number][] = [];
    for (let oyl = 0; oyl < ty; oyl++) for (let ky = 0; ky < kh; ky++) if (oyl * sy + ky * dy === r) pairs.push([oyl, ky]);
    if (pairs.length === 0) continue;
    line(`let iy${r} = u32(i32(oy0 * ${sy}u + ${r}u) - ${pads}(0u));`);
    line(`let rok${r} = iy${r} < in0;`);
    line(`let xo${r} = xb + select(0u, iy${r} * xs0, rok${r});`);
    for (const m of usedCols) line(`let x${r}_${m} = ${load(`xo${r} + cx${m}`, `rok${r} & cok${m}`)};`);
    for (const [oyl, ky] of pairs) {
      for (let kx = 0; kx < kw; kx++) {
        for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) line(`acc${i}_${oyl * tn + j} += s${i}_${ky * kw + kx} * x${r}_${j * sx + kx * dx};`);
      }
    }
  }
}
