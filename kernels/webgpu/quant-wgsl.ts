import type { QuantParamLayout } from '../common/quant.ts';
import type { MaybeTensor } from '../contract.ts';
import type { ShaderBuilder, TensorVar } from './shader-builder.ts';
import { wgslDivExactWhere, wgslNearHalf, wgslRedoFlag } from './quant-round-wgsl.ts';

// the rounding helpers live apart: the core download's fused programs need them, not the rest (bundle)
export { QUANTIZE_LOAD_SITES, wgslDivExact, wgslDivExactWhere, wgslQuantizeFinish, wgslQuantRound, wgslQuantRound4, wgslRoundF16, wgslRoundTo } from './quant-round-wgsl.ts';

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

/**
 * Entries of a uniform array of per-channel constants (requantization multipliers) for n channels:
 * a few size classes, because the uniform block's size is part of the WGSL and so of the pipeline. With
 * one class per power of two, the MobileNetV3-like int8 model's 22 QLinearConvs needed 20 pipelines
 * (its float twin's Convs 11), ~0.4-2.5 s of SwiftShader JIT each; a class of 256 costs 1 KB of
 * uniforms per node.
 */
export function channelUniformSlots(n: number): number {
  return n <= 256 ? 256 : n <= 1024 ? 1024 : 4096;
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
 *
 * With `fast`, the statements never divide exactly: they round the hardware quotient and set the
 * module-scope `kiln_redo` (wgslRedoFlag) where that may be wrong, and the caller runs the exact form
 * again when it is set. In a conv's epilogue loop the exact path's mere presence, guarded and never
 * entered, cost more than the rest of the add (decision swiftshader-gathers).
 */
export function wgslQLinearAddRound(b: ShaderBuilder, va: string, vb: string, sc: string, zc: string, range: readonly [number, number], name: string, fast = false): string[] {
  const clampC = (v: string): string => `clamp(${v}, ${range[0]}.0 - ${zc}, ${range[1]}.0 - ${zc}) + ${zc}`;
  const lines = [
    `let ${name}_sum = ${va} + ${vb};`,
    `let ${name}_q0 = ${name}_sum / ${sc};`,
    `let ${name}_t0 = ${clampC(`${name}_q0`)};`,
    `let ${name}_near = ${wgslNearHalf(`${name}_t0`, `(abs(${name}_q0) + abs(${name}_t0))`)};`,
  ];
  if (fast) {
    const redo = wgslRedoFlag(b);
    return [...lines, `${redo} = ${redo} || ${name}_near;`, `let ${name} = i32(round(${name}_t0));`];
  }
  const divWhere = wgslDivExactWhere(b);
  return [...lines, `let ${name} = i32(round(${clampC(`${divWhere}(${name}_sum, ${sc}, ${name}_near)`)}));`];
}
