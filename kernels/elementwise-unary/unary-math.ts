import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, NUMERIC_TYPES } from '../common/shape.ts';
import type { KernelContext } from '../contract.ts';
import type { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { WgslType } from '../webgpu/storage.ts';
import { wgslWrap } from '../webgpu/wrap.ts';

/**
 * One-input, same-shape ops: activations, math functions, predicates (IsNaN...). This is THE table
 * of elementwise math: the standalone ops (op.ts reference, js.ts, webgpu.ts) and the activations
 * fused into Conv/ConvTranspose/MatMul/Gemm epilogues (kernels/common/activation.ts) all read it,
 * so an answer never depends on whether fusion ran.
 */
export interface UnarySpec {
  readonly opType: string;
  readonly domain?: string;
  readonly types: readonly DataType[];
  /** predicates output bool */
  readonly boolOut?: boolean;
  /** attribute values in the order `p[i]` / `p(i)` reads them */
  readonly params?: (ctx: KernelContext) => number[];
  /** a choice that changes the code (Gelu's `approximate`), baked into both paths */
  readonly mode?: (ctx: KernelContext) => string;
  readonly cpu: (x: number, p: readonly number[], mode: string) => number;
  /** WGSL expression over `x` of compute type `t`; `p(i)` reads param i as an f32 uniform */
  readonly wgsl: (t: WgslType, p: (i: number) => string, mode: string) => string;
  /** WGSL helpers (by name) the expression calls */
  readonly helpers?: readonly string[];
  /** NaN in gives 0 out (ThresholdedRelu's comparison), not NaN */
  readonly nanToZero?: boolean;
  /** result may leave a narrow integer range (Neg/Abs of int8 -128) */
  readonly wraps?: boolean;
}

const SIGNED_INT = ['int8', 'int16', 'int32', 'int64'] as const;
const INT_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;
const FLOAT_AND_SIGNED: readonly DataType[] = [...FLOAT_TYPES, ...SIGNED_INT];

// ---- CPU math (float64) -----------------------------------------------------------------------

// erf/erfc: Taylor series near 0 (keeps relative accuracy), Numerical Recipes' Chebyshev erfc
// elsewhere (relative error < 1.2e-7); the WGSL helpers below use the same split.
function erfcPositive(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  return t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}
function erfSmall(x: number): number {
  const x2 = x * x;
  return 1.1283791670955126 * x * (1 - x2 / 3 + (x2 * x2) / 10 - (x2 * x2 * x2) / 42 + (x2 * x2 * x2 * x2) / 216 - (x2 * x2 * x2 * x2 * x2) / 1320);
}
export function erf(x: number): number {
  if (Math.abs(x) < 0.5) return erfSmall(x);
  return x > 0 ? 1 - erfcPositive(x) : erfcPositive(-x) - 1;
}
export function erfc(x: number): number {
  if (Math.abs(x) < 0.5) return 1 - erfSmall(x);
  return x > 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

// ---- WGSL helpers (f32) -----------------------------------------------------------------------

// Builtins such as tanh/sinh/asinh may be computed from exp/log on some adapters, losing all
// relative precision near 0; these keep it with short series there.
const WGSL_HELPERS: Record<string, string> = {
  kiln_erf_small: `fn kiln_erf_small(x: f32) -> f32 {
  let x2 = x * x;
  return 1.1283791671 * x * (1.0 + x2 * (-0.333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * (0.00462962963 - x2 * 0.000757575758)))));
}`,
  kiln_erfc_pos: `fn kiln_erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  return t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}`,
  kiln_erf: `fn kiln_erf(x: f32) -> f32 {
  if (abs(x) < 0.5) { return kiln_erf_small(x); }
  return select(kiln_erfc_pos(-x) - 1.0, 1.0 - kiln_erfc_pos(x), x > 0.0);
}`,
  kiln_erfc: `fn kiln_erfc(x: f32) -> f32 {
  if (abs(x) < 0.5) { return 1.0 - kiln_erf_small(x); }
  return select(2.0 - kiln_erfc_pos(-x), kiln_erfc_pos(x), x > 0.0);
}`,
  kiln_sigmoid: `fn kiln_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`,
  kiln_expm1: `fn kiln_expm1(x: f32) -> f32 {
  if (abs(x) < 0.01) { return x * (1.0 + x * (0.5 + x * 0.166666667)); }
  return exp(x) - 1.0;
}`,
  kiln_log1p: `fn kiln_log1p(x: f32) -> f32 {
  if (abs(x) < 0.01) { return x * (1.0 - x * (0.5 - x * 0.333333333)); }
  return log(1.0 + x);
}`,
  kiln_softplus: `fn kiln_softplus(x: f32) -> f32 { return max(x, 0.0) + kiln_log1p(exp(-abs(x))); }`,
  kiln_tanh: `fn kiln_tanh(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.1) { let x2 = x * x; return x * (1.0 + x2 * (-0.333333333 + x2 * (0.133333333 - x2 * 0.053968254))); }
  let t = exp(-2.0 * a);
  return sign(x) * (1.0 - t) / (1.0 + t);
}`,
  kiln_sinh: `fn kiln_sinh(x: f32) -> f32 {
  if (abs(x) < 0.1) { let x2 = x * x; return x * (1.0 + x2 * (0.166666667 + x2 * 0.00833333333)); }
  let e = exp(x);
  return 0.5 * (e - 1.0 / e);
}`,
  // SwiftShader's sin/cos are off by ~2e-4 past |x| > pi: Cody-Waite reduction by pi/2 in three
  // parts, then Cephes' single-precision polynomials on [-pi/4, pi/4]. Returns (sin, cos).
  kiln_sincos: `fn kiln_sincos(x: f32) -> vec2<f32> {
  let k = round(x * 0.636619772);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(k) & 3;
  if (q == 0) { return vec2<f32>(s, c); }
  if (q == 1) { return vec2<f32>(c, -s); }
  if (q == 2) { return vec2<f32>(-s, -c); }
  return vec2<f32>(-c, s);
}`,
  kiln_tan: `fn kiln_tan(x: f32) -> f32 { let sc = kiln_sincos(x); return sc.x / sc.y; }`,
  kiln_cosh: `fn kiln_cosh(x: f32) -> f32 { let e = exp(abs(x)); return 0.5 * (e + 1.0 / e); }`,
  kiln_asinh: `fn kiln_asinh(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.1) { let x2 = x * x; return x * (1.0 + x2 * (-0.166666667 + x2 * 0.075)); }
  return sign(x) * log(a + sqrt(a * a + 1.0));
}`,
  kiln_atanh: `fn kiln_atanh(x: f32) -> f32 {
  if (abs(x) < 0.1) { let x2 = x * x; return x * (1.0 + x2 * (0.333333333 + x2 * 0.2)); }
  return 0.5 * kiln_log((1.0 + x) / (1.0 - x));
}`,
  kiln_acosh: `fn kiln_acosh(x: f32) -> f32 { return kiln_log(x + sqrt(x * x - 1.0)); }`,
  // SwiftShader's log() returns log|x| for x < 0 and about -88 at 0: the IEEE results by hand
  // (built from x's bits: constant NaN/inf are WGSL compile errors).
  kiln_log: `fn kiln_log(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return x; }
  if (x == 0.0) { return bitcast<f32>(0xff800000u | bits); }
  if (x < 0.0) { return bitcast<f32>(0x7fc00000u | bits); }
  return log(x);
}`,
  kiln_is_nan: `fn kiln_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  kiln_is_inf: `fn kiln_is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }`,
};
const HELPER_DEPS: Record<string, readonly string[]> = {
  kiln_erf: ['kiln_erf_small', 'kiln_erfc_pos'],
  kiln_erfc: ['kiln_erf_small', 'kiln_erfc_pos'],
  kiln_softplus: ['kiln_log1p'],
  kiln_atanh: ['kiln_log'],
  kiln_acosh: ['kiln_log'],
};

export function addHelpers(b: ShaderBuilder, names: readonly string[]): void {
  for (const n of names) {
    addHelpers(b, HELPER_DEPS[n] ?? []);
    b.helper(n, WGSL_HELPERS[n] ?? fail('INTERNAL', `unknown WGSL helper ${n}`));
  }
}

const attr = (name: string, fallback: number) => (ctx: KernelContext): number[] => [ctx.attrs.float(name, fallback)];
const SQRT_2_OVER_PI = 0.7978845608028654;

// ---- the table --------------------------------------------------------------------------------

export const UNARY_SPECS: readonly UnarySpec[] = [
  { opType: 'Relu', types: FLOAT_AND_SIGNED, cpu: (x) => (x < 0 ? 0 : x), wgsl: (t) => `max(x, ${t}(0))` },
  { opType: 'LeakyRelu', types: FLOAT_TYPES, params: attr('alpha', 0.01), cpu: (x, p) => (x >= 0 ? x : x * p[0]!), wgsl: (_, p) => `select(x * ${p(0)}, x, x >= 0.0)` },
  { opType: 'Sigmoid', types: FLOAT_TYPES, cpu: sigmoid, wgsl: () => 'kiln_sigmoid(x)', helpers: ['kiln_sigmoid'] },
  { opType: 'Tanh', types: FLOAT_TYPES, cpu: Math.tanh, wgsl: () => 'kiln_tanh(x)', helpers: ['kiln_tanh'] },
  {
    opType: 'Gelu', types: FLOAT_TYPES, mode: (ctx) => approximation(ctx),
    // tanh form as x * sigmoid(2u) (= 0.5x(1 + tanh u)); exact form through erfc: both avoid 1 + (-1) cancellation.
    cpu: (x, _, m) => (m === 'tanh' ? x * sigmoid(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)) : 0.5 * x * erfc(-x * Math.SQRT1_2)),
    wgsl: (_, __, m) => (m === 'tanh' ? 'x * kiln_sigmoid(1.5957691216 * (x + 0.044715 * x * x * x))' : '0.5 * x * kiln_erfc(-x * 0.70710678118)'),
    helpers: ['kiln_sigmoid', 'kiln_erfc'],
  },
  { opType: 'Erf', types: FLOAT_TYPES, cpu: erf, wgsl: () => 'kiln_erf(x)', helpers: ['kiln_erf'] },
  { opType: 'Sqrt', types: FLOAT_TYPES, cpu: Math.sqrt, wgsl: () => 'sqrt(x)' },
  { opType: 'Exp', types: FLOAT_TYPES, cpu: Math.exp, wgsl: () => 'exp(x)' },
  { opType: 'Log', types: FLOAT_TYPES, cpu: Math.log, wgsl: () => 'kiln_log(x)', helpers: ['kiln_log'] },
  { opType: 'Abs', types: NUMERIC_TYPES, cpu: Math.abs, wgsl: () => 'abs(x)', wraps: true },
  { opType: 'Neg', types: FLOAT_AND_SIGNED, cpu: (x) => -x, wgsl: () => '-x', wraps: true },
  { opType: 'HardSigmoid', types: FLOAT_TYPES, params: (ctx) => [ctx.attrs.float('alpha', 0.2), ctx.attrs.float('beta', 0.5)], cpu: (x, p) => Math.max(0, Math.min(1, p[0]! * x + p[1]!)), wgsl: (_, p) => `clamp(${p(0)} * x + ${p(1)}, 0.0, 1.0)` },
  { opType: 'HardSwish', types: FLOAT_TYPES, cpu: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)), wgsl: () => 'x * clamp(x / 6.0 + 0.5, 0.0, 1.0)' },
  { opType: 'Swish', types: FLOAT_TYPES, params: attr('alpha', 1), cpu: (x, p) => x * sigmoid(p[0]! * x), wgsl: (_, p) => `x * kiln_sigmoid(${p(0)} * x)`, helpers: ['kiln_sigmoid'] },
  {
    opType: 'Shrink', types: FLOAT_TYPES, params: (ctx) => [ctx.attrs.float('lambd', 0.5), ctx.attrs.float('bias', 0)],
    cpu: (x, p) => (x < -p[0]! ? x + p[1]! : x > p[0]! ? x - p[1]! : 0),
    // NaN fails both comparisons: 0, as in onnxruntime
    wgsl: (_, p) => `select(select(select(0.0, x - ${p(1)}, x > ${p(0)}), x + ${p(1)}, x < -${p(0)}), 0.0, kiln_is_nan(x))`,
    helpers: ['kiln_is_nan'],
    nanToZero: true,
  },
  { opType: 'Reciprocal', types: FLOAT_TYPES, cpu: (x) => 1 / x, wgsl: () => '1.0 / x' },
  { opType: 'Floor', types: FLOAT_TYPES, cpu: Math.floor, wgsl: () => 'floor(x)' },
  { opType: 'Ceil', types: FLOAT_TYPES, cpu: Math.ceil, wgsl: () => 'ceil(x)' },
  // WGSL round() rounds half to even, as ONNX wants.
  { opType: 'Round', types: FLOAT_TYPES, cpu: roundHalfEven, wgsl: () => 'round(x)' },
  { opType: 'Sign', types: NUMERIC_TYPES, cpu: Math.sign, wgsl: (t) => `select(${t}(0), ${t}(1), x > ${t}(0)) - select(${t}(0), ${t}(1), x < ${t}(0))` },
  { opType: 'Sin', types: FLOAT_TYPES, cpu: Math.sin, wgsl: () => 'kiln_sincos(x).x', helpers: ['kiln_sincos'] },
  { opType: 'Cos', types: FLOAT_TYPES, cpu: Math.cos, wgsl: () => 'kiln_sincos(x).y', helpers: ['kiln_sincos'] },
  { opType: 'Tan', types: FLOAT_TYPES, cpu: Math.tan, wgsl: () => 'kiln_tan(x)', helpers: ['kiln_sincos', 'kiln_tan'] },
  { opType: 'Asin', types: FLOAT_TYPES, cpu: Math.asin, wgsl: () => 'asin(x)' },
  { opType: 'Acos', types: FLOAT_TYPES, cpu: Math.acos, wgsl: () => 'acos(x)' },
  { opType: 'Atan', types: FLOAT_TYPES, cpu: Math.atan, wgsl: () => 'atan(x)' },
  { opType: 'Sinh', types: FLOAT_TYPES, cpu: Math.sinh, wgsl: () => 'kiln_sinh(x)', helpers: ['kiln_sinh'] },
  { opType: 'Cosh', types: FLOAT_TYPES, cpu: Math.cosh, wgsl: () => 'kiln_cosh(x)', helpers: ['kiln_cosh'] },
  { opType: 'Asinh', types: FLOAT_TYPES, cpu: Math.asinh, wgsl: () => 'kiln_asinh(x)', helpers: ['kiln_asinh'] },
  { opType: 'Acosh', types: FLOAT_TYPES, cpu: Math.acosh, wgsl: () => 'kiln_acosh(x)', helpers: ['kiln_acosh'] },
  { opType: 'Atanh', types: FLOAT_TYPES, cpu: Math.atanh, wgsl: () => 'kiln_atanh(x)', helpers: ['kiln_atanh'] },
  { opType: 'Softplus', types: FLOAT_TYPES, cpu: softplus, wgsl: () => 'kiln_softplus(x)', helpers: ['kiln_softplus'] },
  { opType: 'Softsign', types: FLOAT_TYPES, cpu: (x) => x / (1 + Math.abs(x)), wgsl: () => 'x / (1.0 + abs(x))' },
  { opType: 'Elu', types: FLOAT_TYPES, params: attr('alpha', 1), cpu: (x, p) => (x > 0 ? x : p[0]! * Math.expm1(x)), wgsl: (_, p) => `select(${p(0)} * kiln_expm1(x), x, x > 0.0)`, helpers: ['kiln_expm1'] },
  {
    // defaults are the float32 values of the SELU constants, as ONNX states them
    opType: 'Selu', types: FLOAT_TYPES, params: (ctx) => [ctx.attrs.float('alpha', 1.67326319217681884765625), ctx.attrs.float('gamma', 1.05070102214813232421875)],
    cpu: (x, p) => p[1]! * (x > 0 ? x : p[0]! * Math.expm1(x)), wgsl: (_, p) => `${p(1)} * select(${p(0)} * kiln_expm1(x), x, x > 0.0)`, helpers: ['kiln_expm1'],
  },
  { opType: 'Celu', types: FLOAT_TYPES, params: attr('alpha', 1), cpu: (x, p) => Math.max(0, x) + Math.min(0, p[0]! * Math.expm1(x / p[0]!)), wgsl: (_, p) => `max(x, 0.0) + min(0.0, ${p(0)} * kiln_expm1(x / ${p(0)}))`, helpers: ['kiln_expm1'] },
  { opType: 'ThresholdedRelu', types: FLOAT_TYPES, params: attr('alpha', 1), cpu: (x, p) => (x > p[0]! ? x : 0), wgsl: (_, p) => `select(0.0, x, x > ${p(0)})`, nanToZero: true },
  { opType: 'Mish', types: FLOAT_TYPES, cpu: (x) => x * Math.tanh(softplus(x)), wgsl: () => 'x * kiln_tanh(kiln_softplus(x))', helpers: ['kiln_tanh', 'kiln_softplus'] },
  { opType: 'Not', types: ['bool'], cpu: (x) => +(x === 0), wgsl: () => 'select(0u, 1u, x == 0u)' },
  { opType: 'BitwiseNot', types: INT_TYPES, cpu: (x) => ~x, wgsl: () => '~x', wraps: true },
  { opType: 'IsNaN', types: FLOAT_TYPES, boolOut: true, cpu: (x) => +Number.isNaN(x), wgsl: () => 'kiln_is_nan(x)', helpers: ['kiln_is_nan'] },
  {
    opType: 'IsInf', types: FLOAT_TYPES, boolOut: true, params: (ctx) => [ctx.attrs.int('detect_negative', 1), ctx.attrs.int('detect_positive', 1)],
    cpu: (x, p) => +((x === Infinity && p[1] !== 0) || (x === -Infinity && p[0] !== 0)),
    wgsl: (_, p) => `kiln_is_inf(x) && select(${p(0)} != 0.0, ${p(1)} != 0.0, x > 0.0)`, helpers: ['kiln_is_inf'],
  },
];

function approximation(ctx: KernelContext): string {
  const a = ctx.attrs.string('approximate', 'none');
  if (a !== 'none' && a !== 'tanh') fail('INVALID_GRAPH', `node '${ctx.node}': Gelu approximate must be 'none' or 'tanh', got '${a}'`);
  return a;
}

/**
 * Clip's math: lower bound first, then the upper one, as numpy.clip does (so min > max yields max
 * everywhere; NaN stays NaN). p(0), p(1) are the bounds: uniforms, GPU inputs or fused params.
 */
export const CLIP_MATH = {
  cpu: (x: number, lo: number, hi: number): number => (lo > hi ? hi : x < lo ? lo : x > hi ? hi : x),
  wgsl: (x: string, lo: string, hi: string): string => `min(max(${x}, ${lo}), ${hi})`,
} as const;

export function unarySpecOf(opType: string): UnarySpec {
  return UNARY_SPECS.find((s) => s.opType === opType) ?? fail('INTERNAL', `no elementwise math for ${opType}`);
}

/**
 * The op's WGSL applied to the variable `x` of compute type `t`, with the NaN rule every
 * standalone f32 op and fused activation shares: WGSL lets builtins return anything for NaN
 * (SwiftShader's exp(NaN) is inf), so NaN passes through unless the op says otherwise.
 */
export function wgslUnaryExpr(b: ShaderBuilder, spec: UnarySpec, t: WgslType, p: (i: number) => string, mode: string, outDtype: DataType): string {
  addHelpers(b, spec.helpers ?? []);
  let expr = spec.wgsl(t, p, mode);
  if (spec.boolOut) expr = `select(0u, 1u, ${expr})`;
  else if (spec.wraps) expr = wgslWrap(outDtype, expr);
  else if (t === 'f32' && !spec.nanToZero) expr = wgslNanPassThrough(b, expr);
  return expr;
}

/** `expr` where x is a number, x itself where x is NaN. */
export function wgslNanPassThrough(b: ShaderBuilder, expr: string): string {
  addHelpers(b, ['kiln_is_nan']);
  return `select(${expr}, x, kiln_is_nan(x))`;
}
