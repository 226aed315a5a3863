import type { FloatPrecision, QuantParamLayout } from '../common/quant.ts';
import type { MaybeTensor } from '../contract.ts';
import type { ShaderBuilder, TensorVar } from './shader-builder.ts';

/**
 * The WGSL twins of the quantization arithmetic in kernels/common/quant.ts (parameter indexing,
 * float16 rounding, exact division, requantization), so the GPU gives the CPU's integer results.
 */

/**
 * Registers `<name>(i: u32) -> u32`: the parameter index of flat element i of x. The layout kind
 * changes the code; its sizes are uniforms.
 */
export function wgslParamIndex(b: ShaderBuilder, l: QuantParamLayout, name = 'kiln_qparam'): string {
  if (l.kind === 'tensor') {
    b.helper(name, `fn ${name}(i: u32) -> u32 { return 0u; }`);
    return name;
  }
  const inner = b.uniform(`${name}_inner`, 'u32', l.inner);
  const axisDim = b.uniform(`${name}_axis_dim`, 'u32', l.axisDim);
  if (l.kind === 'axis') {
    b.helper(name, `fn ${name}(i: u32) -> u32 { return (i / ${inner}) % ${axisDim}; }`);
    return name;
  }
  const pDim = b.uniform(`${name}_param_dim`, 'u32', l.paramAxisDim);
  const block = b.uniform(`${name}_block`, 'u32', l.blockSize);
  b.helper(name, [
    `fn ${name}(i: u32) -> u32 {`,
    `  let row = i / ${inner};`,
    `  let a = row % ${axisDim};`,
    `  return ((row / ${axisDim}) * ${pDim} + a / ${block}) * ${inner} + i % ${inner};`,
    '}',
  ].join('\n'));
  return name;
}

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
    `  return round(${wgslDivExactWhere(b)}(x, s, abs(q0 - (floor(q0) + 0.5)) <= abs(q0) * 0.000002));`,
    '}',
  ].join('\n'));
  return name;
}

/** WGSL expression rounding f32 expression `v` to precision `p` (float64 never reaches the GPU). */
export function wgslRoundTo(b: ShaderBuilder, p: FloatPrecision, v: string): string {
  return p === 'float16' ? `${wgslRoundF16(b)}(${v})` : v;
}

/**
 * Registers `kiln_requant(acc: i32, m: f32) -> i32`: round-half-even(acc * m) computed exactly,
 * as mulRoundHalfEven does: m's 24-bit significand times |acc| in a 64-bit product held in two
 * u32 words, then a rounding right shift. Magnitudes of 2^23 and more may come back as 2^30:
 * callers saturate to 16 bits or less.
 */
export function wgslRequant(b: ShaderBuilder): string {
  b.helper('kiln_requant', [
    'fn kiln_shr64(v: vec2<u32>, s: u32) -> vec2<u32> {',
    '  if (s == 0u) { return v; }',
    '  if (s >= 64u) { return vec2<u32>(0u, 0u); }',
    '  if (s >= 32u) { return vec2<u32>(v.y >> (s - 32u), 0u); }',
    '  return vec2<u32>((v.x >> s) | (v.y << (32u - s)), v.y >> s);',
    '}',
    'fn kiln_requant(acc: i32, m: f32) -> i32 {',
    '  let mb = bitcast<u32>(m);',
    '  let ex = (mb >> 23u) & 0xffu;',
    '  if (acc == 0 || (mb & 0x7fffffffu) == 0u) { return 0; }',
    '  if (ex == 0xffu) { return select(-1073741824, 1073741824, (acc > 0) == ((mb >> 31u) == 0u)); }',
    '  let sig = select((mb & 0x7fffffu) | 0x800000u, mb & 0x7fffffu, ex == 0u);',
    '  let e = i32(max(ex, 1u)) - 150;',
    '  let a = u32(abs(acc));', // abs(i32 min) stays i32 min, whose bits read as 2^31: still right
    '  let al = a & 0xffffu; let ah = a >> 16u;',
    '  let sl = sig & 0xffffu; let sh = sig >> 16u;',
    '  let mid = ah * sl + al * sh;', // < 2^31 + 2^24: no overflow
    '  let lo0 = al * sl;',
    '  let lo = lo0 + (mid << 16u);',
    '  let hi = ah * sh + (mid >> 16u) + select(0u, 1u, lo < lo0);',
    '  var r: u32;',
    '  if (e >= 0) {',
    '    r = 1073741824u;', // |acc * m| >= 2^23: past every quantized range
    '  } else {',
    '    let s = u32(-e);',
    '    let q = kiln_shr64(vec2<u32>(lo, hi), s);',
    '    let below = kiln_shr64(vec2<u32>(lo, hi), s - 1u);', // its lowest bit is the rounding bit
    '    let k = s - 1u;', // sticky: any bit under the rounding bit
    '    var sticky = false;',
    '    if (k >= 32u) { sticky = lo != 0u || (k > 32u && (hi & ((1u << (k - 32u)) - 1u)) != 0u); }',
    '    else if (k > 0u) { sticky = (lo & ((1u << k) - 1u)) != 0u; }',
    '    let up = (below.x & 1u) == 1u && (sticky || (q.x & 1u) == 1u);',
    '    r = select(min(q.x + select(0u, 1u, up), 1073741824u), 1073741824u, q.y != 0u || q.x >= 1073741824u);',
    '  }',
    '  return select(i32(r), -i32(r), (acc < 0) != ((mb >> 31u) != 0u));',
    '}',
  ].join('\n'));
  return 'kiln_requant';
}

const UNIFORM_PARAM_TYPES: ReadonlySet<string> = new Set(['float32', 'int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4']);

/**
 * A quantization parameter (scale or zero point) as an f32 expression at parameter index `j`: a
 * uniform when it is one constant value (a per-tensor initializer), else a load from `buffer()`.
 * On SwiftShader every storage load costs ~7 ns per lane whatever the index, so a QuantizeLinear
 * reading x, scale and zero point per element spent two thirds of its loads on two constants.
 * Only types whose every value f32 holds exactly: float32 and integers of 16 bits or fewer.
 */
export function wgslQuantParam(b: ShaderBuilder, name: string, constant: MaybeTensor | undefined, buffer: () => TensorVar): (j: string) => string {
  if (constant && constant.size === 1 && UNIFORM_PARAM_TYPES.has(constant.type)) {
    const u = b.uniform(name, 'f32', Number(constant.data[0]));
    return () => u;
  }
  const v = buffer();
  return (j) => `f32(${v.get(j)})`;
}

/**
 * Statements of com.microsoft QLinearAdd's rounding (qlinear-binary/op.ts: every step in float32,
 * zc added before rounding) of the f32 expressions `va`, `vb` onto C's grid (scale `sc`, zero point
 * `zc`, both f32 expressions; `range` C's type's) binding `name` to the i32 result. The QLinearAdd
 * kernel and QLinearConv's folded add (qlinear-conv/fused-io-wgsl.ts) both run these. The exact
 * quotient only where the hardware one's sum lands near a half (a few ulps cover the division's error
 * and the sum's rounding), as QuantizeLinear's rounding does.
 */
export function wgslQLinearAddRound(b: ShaderBuilder, va: string, vb: string, sc: string, zc: string, range: readonly [number, number], name: string): string[] {
  const divWhere = wgslDivExactWhere(b);
  const clampC = (v: string): string => `clamp(${v}, ${range[0]}.0 - ${zc}, ${range[1]}.0 - ${zc}) + ${zc}`;
  return [
    `let ${name}_sum = ${va} + ${vb};`,
    `let ${name}_q0 = ${name}_sum / ${sc};`,
    `let ${name}_t0 = ${clampC(`${name}_q0`)};`,
    `let ${name}_near = abs(${name}_t0 - (floor(${name}_t0) + 0.5)) <= (abs(${name}_q0) + abs(${name}_t0)) * 0.000002;`,
    `let ${name} = i32(round(${clampC(`${divWhere}(${name}_sum, ${sc}, ${name}_near)`)}));`,
  ];
}
