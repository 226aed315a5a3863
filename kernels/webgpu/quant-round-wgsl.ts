import type { FloatPrecision } from '../common/quant.ts';
import type { LaneFinish, ShaderBuilder } from './shader-builder.ts';

/*
 * QuantizeLinear's rounding in WGSL (the CPU's in kernels/common/round-half-even.ts): float16
 * rounding, the correctly rounded quotient, round-half-even of x / s. Apart from quant-wgsl.ts
 * because the core download needs them (a fake quantization folded into a fused program, a Conv's
 * store or load) and not the quantized ops' other helpers, which stay in their lazy chunk.
 */

/**
 * Registers `kiln_round_f16(v: f32) -> f32`: v rounded to the nearest float16 value (ties to even),
 * for scale arithmetic that ONNX does in float16. pack2x16float may round either way, so by hand.
 */
export function wgslRoundF16(b: ShaderBuilder): string {
  b.helper('kiln_round_f16', [
    'fn kiln_round_f16(v: f32) -> f32 {',
    '  let a = abs(v);',
    '  if (a >= 65520.0) { return bitcast<f32>((bitcast<u32>(v) & 0x80000000u) | 0x7f800000u); }', // overflow: signed infinity
    // below the smallest normal half the quantum is 2^-24: scaling by powers of two is exact
    '  if (a < 6.103515625e-05) { return round(v * 16777216.0) / 16777216.0; }',
    '  let bits = bitcast<u32>(v);',
    '  return bitcast<f32>((bits + 0xfffu + ((bits >> 13u) & 1u)) & 0xffffe000u);',
    '}',
  ].join('\n'));
  return 'kiln_round_f16';
}

/**
 * WGSL: whether `v`, a value computed from a hardware quotient, lies near enough a half that the
 * correctly rounded quotient may round the other way: within 2e-6 of `scale` (the quotient's
 * magnitude, with whatever was added to it). WGSL allows 2.5 ulp (~3e-7 relative) for `/`; the band is
 * wider so every rounding built on it (QuantizeLinear, QLinearAdd, fake quantization, scalar or four
 * lanes) takes the exact path for the same values. Works on f32 and vec4<f32> alike.
 */
export function wgslNearHalf(v: string, scale: string): string {
  return `abs(${v} - (floor(${v}) + 0.5)) <= ${scale} * 0.000002`;
}

/**
 * Registers `kiln_div(a: f32, b: f32) -> f32`: the correctly rounded IEEE quotient, as the CPU
 * computes it. WGSL allows 2.5 ulp for `/` (SwiftShader turns x / 255.0 into a reciprocal
 * multiply), and a one-ulp difference moves round-half-even across a tie. Long division of the
 * 24-bit significands gives 26 quotient bits plus a sticky remainder; zeros, infinities, NaN and
 * subnormal operands or results keep the hardware quotient.
 */
export function wgslDivExact(b: ShaderBuilder): string {
  b.helper('kiln_div', [
    'fn kiln_div(a: f32, b: f32) -> f32 {',
    '  let q0 = a / b;',
    '  let ab = bitcast<u32>(a);',
    '  let bb = bitcast<u32>(b);',
    '  let ea = (ab >> 23u) & 0xffu;',
    '  let eb = (bb >> 23u) & 0xffu;',
    '  if (ea == 0u || eb == 0u || ea == 0xffu || eb == 0xffu) { return q0; }',
    '  let ma = (ab & 0x7fffffu) | 0x800000u;',
    '  let mb = (bb & 0x7fffffu) | 0x800000u;',
    '  var r = ma;',
    '  var q = 0u;',
    '  for (var i = 0u; i < 26u; i++) {', // q = floor(ma * 2^25 / mb), in [2^24, 2^26)
    // branch-free: SwiftShader runs a divergent if's both sides, and select keeps the loop body straight
    '    let ge = r >= mb;',
    '    q = (q << 1u) | select(0u, 1u, ge);',
    '    r = select(r, r - mb, ge) << 1u;',
    '  }',
    '  let shift = select(1u, 2u, q >= 0x2000000u);',
    '  var sig = q >> shift;',
    '  let rest = q & ((1u << shift) - 1u);',
    '  let half = 1u << (shift - 1u);',
    '  if (rest > half || (rest == half && (r != 0u || (sig & 1u) == 1u))) { sig = sig + 1u; }',
    '  var ex = i32(ea) - i32(eb) + 125 + i32(shift);',
    '  if (sig == 0x1000000u) { sig = 0x800000u; ex = ex + 1; }',
    '  if (ex < 1 || ex > 254) { return q0; }',
    '  return bitcast<f32>(((ab ^ bb) & 0x80000000u) | (u32(ex) << 23u) | (sig & 0x7fffffu));',
    '}',
  ].join('\n'));
  return 'kiln_div';
}

/**
 * Most places one shader may inline a QuantizeLinear rounding (kiln_qround_*) on a load: a tile that
 * loads x more often quantizes it first, in a program of its own. Each copy carries the exact division,
 * and SwiftShader's JIT time grows with the copies: the demo MNIST CNN's first conv with its input's
 * fake quantization at 60 loads took 5.5-7 s to compile, 0.45 s without (decision prologue-sites).
 */
export const QUANTIZE_LOAD_SITES = 8;

/**
 * Registers `kiln_div_if(a: f32, b: f32, exact: bool) -> f32`: kiln_div's quotient where `exact`,
 * else the hardware's. Measured on SwiftShader (QuantizeLinear of 147k values, one core): the exact
 * path in a loop of 0 or 1 trips 4.9 ms, behind an if 5.25 ms, a trivial body in its place 1.7 ms.
 * SwiftShader runs a divergent if's both sides, and a loop's body at least once under the lanes'
 * mask, so the rarely needed division still costs most of the op (decisions.md, quantize-cost).
 */
export function wgslDivExactWhere(b: ShaderBuilder): string {
  const div = wgslDivExact(b);
  b.helper('kiln_div_if', [
    'fn kiln_div_if(a: f32, b: f32, exact: bool) -> f32 {',
    '  var q = a / b;',
    `  for (var i = select(1u, 0u, exact); i < 1u; i++) { q = ${div}(a, b); }`,
    '  return q;',
    '}',
  ].join('\n'));
  return 'kiln_div_if';
}

/**
 * Registers `kiln_qround_<p>(x: f32, s: f32) -> f32`: round-half-even of x / s computed in
 * precision p, as QuantizeLinear defines it. The exact quotient is only needed when the hardware
 * one lies near a half-integer (a few ulps cover WGSL's division error), so most elements skip it.
 */
export function wgslQuantRound(b: ShaderBuilder, p: FloatPrecision): string {
  const name = `kiln_qround_${p}`;
  if (p === 'float16') {
    b.helper(name, `fn ${name}(x: f32, s: f32) -> f32 { return round(${wgslRoundF16(b)}(${wgslDivExact(b)}(x, s))); }`);
    return name;
  }
  b.helper(name, [
    `fn ${name}(x: f32, s: f32) -> f32 {`,
    '  let q0 = x / s;',
    `  return round(${wgslDivExactWhere(b)}(x, s, ${wgslNearHalf('q0', 'abs(q0)')}));`,
    '}',
  ].join('\n'));
  return name;
}

/**
 * Registers `kiln_qround_fast(x: f32, s: f32) -> f32`: kiln_qround_float32's answer wherever the hardware
 * quotient is not near a half, and the module-scope `kiln_redo` (wgslRedoFlag) set where it is: the caller
 * computes those outputs again with kiln_qround_float32 when the flag is up (ConvProgramIo.fastStore).
 */
export function wgslQuantRoundFast(b: ShaderBuilder): string {
  wgslRedoFlag(b);
  b.helper('kiln_qround_fast', [
    'fn kiln_qround_fast(x: f32, s: f32) -> f32 {',
    '  let q0 = x / s;',
    `  kiln_redo = kiln_redo || ${wgslNearHalf('q0', 'abs(q0)')};`,
    '  return round(q0);',
    '}',
  ].join('\n'));
  return 'kiln_qround_fast';
}

/** Declares `kiln_redo`, per invocation, false at its start: some output of a fast rounding may be wrong. */
export function wgslRedoFlag(b: ShaderBuilder): string {
  b.helper('kiln_redo', 'var<private> kiln_redo: bool;');
  return 'kiln_redo';
}

/**
 * Registers `kiln_qround4(x: vec4<f32>, s: f32) -> vec4<f32>`: kiln_qround_float32 of four values at
 * once. The exact quotient runs for the lanes near a half only, in one loop over the lanes entered when
 * any is: SwiftShader runs an if's body under the lanes' mask (so four inlined copies of the exact
 * division cost every element their time) but skips a loop that no lane enters. A vec4 QuantizeLinear of
 * 147k values, one core: 4.5 ms with four scalar roundings, 2.1 ms so (plain round(x / s): 1.2, not exact).
 */
export function wgslQuantRound4(b: ShaderBuilder): string {
  const div = wgslDivExact(b);
  b.helper('kiln_qround4', [
    'fn kiln_qround4(x: vec4<f32>, s: f32) -> vec4<f32> {',
    '  var q = x / s;',
    `  let near = ${wgslNearHalf('q', 'abs(q)')};`,
    `  for (var l = select(4u, 0u, any(near)); l < 4u; l++) { if (near[l]) { q[l] = ${div}(x[l], s); } }`,
    '  return round(q);',
    '}',
  ].join('\n'));
  return 'kiln_qround4';
}

/**
 * QuantizeLinear onto a per-tensor grid (f32 expressions `scale`, `zeroPoint`; range lo..hi) as the last
 * step of an elementwise program (ShaderBuilder LaneFinish) storing `type`: the vec4 forms round the four
 * lanes together (wgslQuantRound4), the scalar forms per element (kiln_qround_float32); the same integers.
 */
export function wgslQuantizeFinish(b: ShaderBuilder, scale: string, zeroPoint: string, lo: number | string, hi: number | string, type: 'u32' | 'i32'): LaneFinish {
  const f = (v: number | string): string => (typeof v === 'number' ? `${v}.0` : v);
  return {
    laneType: 'f32',
    vec4: (lanes) => `vec4<${type}>(clamp(${wgslQuantRound4(b)}(${lanes}, ${scale}) + ${zeroPoint}, vec4<f32>(${f(lo)}), vec4<f32>(${f(hi)})))`,
    scalar: (v) => `${type}(clamp(${wgslQuantRound(b, 'float32')}(${v}, ${scale}) + ${zeroPoint}, ${f(lo)}, ${f(hi)}))`,
  };
}

/** WGSL expression rounding f32 expression `v` to precision `p` (float64 never reaches the GPU). */
export function wgslRoundTo(b: ShaderBuilder, p: FloatPrecision, v: string): string {
  return p === 'float16' ? `${wgslRoundF16(b)}(${v})` : v;
}
