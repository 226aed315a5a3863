// QuantizeLinear's rounding on the CPU (its WGSL twin: kernels/webgpu/quant-round-wgsl.ts), apart from
// quant.ts so the core download's fused programs (a fake quantization step) do not pull the rest in.

/** Math.round rounds halves up; ONNX (numpy rint) rounds them to the even neighbour. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function clampTo(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Rounds x / scale to the nearest even integer, adds the zero point and saturates (NaN gives the zero point). */
export function quantizeValue(q: number, zp: number, lo: number, hi: number): number {
  return Number.isNaN(q) ? clampTo(zp, lo, hi) : clampTo(roundHalfEven(q) + zp, lo, hi);
}
