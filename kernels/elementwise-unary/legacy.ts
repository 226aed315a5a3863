import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, NUMERIC_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { WgslType } from '../webgpu/storage.ts';
import { wgslWrap } from '../webgpu/wrap.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuLowering } from '../webgpu/contract.ts';

/** One-input, same-shape ops: activations, math functions, predicates (IsNaN...). */
interface UnarySpec {
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
function erfc(x: number): number {
  if (Math.abs(x) < 0.5) return 1 - erfSmall(x);
  return x > 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
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

const SPECS: readonly UnarySpec[] = [
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

// ---- kernels ----------------------------------------------------------------------------------

const BITWISE_64 = new Set<DataType>(['int64', 'uint64']);

function makeKernel(spec: UnarySpec): LegacyOpKernel {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    const x = requireInput(inputs, 0, ctx);
    requireType(x, spec.types, ctx);
    spec.mode?.(ctx);
    return [{ dtype: spec.boolOut ? 'bool' : x.dtype, dims: x.dims }];
  };
  return {
    opType: spec.opType,
    ...(spec.domain ? { domain: spec.domain } : {}),
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const [out] = infer([metaOf(x)], ctx);
      const p = spec.params?.(ctx) ?? [];
      const mode = spec.mode?.(ctx) ?? '';
      if (spec.opType === 'BitwiseNot' && BITWISE_64.has(x.type)) return [bitwiseNot64(x)];
      // float32 fast path: no float64 round trip
      if (x.type === 'float32' && out!.dtype === 'float32') {
        const xs = x.data as Float32Array;
        const ys = new Float32Array(xs.length);
        if (!hotLoopF32(spec.opType, xs, ys)) for (let i = 0; i < xs.length; i++) ys[i] = spec.cpu(xs[i]!, p, mode);
        return [new Tensor('float32', ys, out!.dims)];
      }
      const xs = toNumbers(x);
      const ys = new Float64Array(xs.length);
      for (let i = 0; i < xs.length; i++) ys[i] = spec.cpu(xs[i]!, p, mode);
      return [fromNumbers(out!.dtype, out!.dims, ys)];
    },
    webgpu(inputs, outputs, ctx) {
      return unaryProgram(spec, inputs[0]!, outputs[0]!, ctx);
    },
  };
}

// The call through spec.cpu is megamorphic (one call site for every op); the activations that
// dominate CNN/transformer graphs get their own loops so V8 inlines the arithmetic.
function hotLoopF32(op: string, xs: Float32Array, ys: Float32Array): boolean {
  const n = xs.length;
  switch (op) {
    case 'Relu':
      for (let i = 0; i < n; i++) { const v = xs[i]!; ys[i] = v < 0 ? 0 : v; }
      return true;
    case 'Sigmoid':
      for (let i = 0; i < n; i++) { const v = xs[i]!; ys[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)); }
      return true;
    case 'Tanh':
      for (let i = 0; i < n; i++) ys[i] = Math.tanh(xs[i]!);
      return true;
    default:
      return false;
  }
}

function unaryProgram(spec: UnarySpec, xm: TensorMeta, out: TensorMeta, ctx: GpuKernelContext): GpuLowering {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', xm, 0);
  const Y = b.output('Y', out);
  const n = b.uniform('n', 'u32', X.size);
  const params = spec.params?.(ctx);
  if (params) b.uniformArray('params', 'f32', params);
  addHelpers(b, spec.helpers ?? []);
  const p = (i: number): string => `params(${i}u)`;
  let expr = spec.wgsl(X.type, p, spec.mode?.(ctx) ?? '');
  if (spec.boolOut) expr = `select(0u, 1u, ${expr})`;
  else if (spec.wraps) expr = wgslWrap(out.dtype, expr);
  else if (X.type === 'f32' && !spec.nanToZero) {
    // WGSL lets builtins return anything for NaN (SwiftShader's exp(NaN) is inf): pass NaN through.
    addHelpers(b, ['kiln_is_nan']);
    expr = `select(${expr}, x, kiln_is_nan(x))`;
  }
  const body = [`  if (global_idx >= ${n}) { return; }`, `  let x = ${X.get('global_idx')};`, `  ${Y.set('global_idx', expr)}`].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `${spec.opType}:${ctx.node}`, body, totalInvocations: X.size })] };
}

function bitwiseNot64(x: AnyTensor): AnyTensor {
  if (x.type === 'uint64') return new Tensor('uint64', (x.data as BigUint64Array).map((v) => BigInt.asUintN(64, ~v)), x.dims);
  return new Tensor('int64', (x.data as BigInt64Array).map((v) => ~v), x.dims);
}

// ---- Clip: bounds from attributes (opset < 11) or optional scalar inputs ----------------------

const FLT_MAX = 3.4028234663852886e38;

function clipAttrBounds(ctx: KernelContext): [number, number] {
  return [ctx.attrs.float('min', -FLT_MAX), ctx.attrs.float('max', FLT_MAX)];
}

function inferClip(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, ctx.opset < 12 ? FLOAT_TYPES : NUMERIC_TYPES, ctx);
  for (const slot of [1, 2]) {
    const m = inputs[slot];
    if (!m) continue;
    if (ctx.opset < 11) fail('INVALID_GRAPH', `node '${ctx.node}': Clip before opset 11 takes min/max as attributes, not inputs`);
    if (m.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Clip ${slot === 1 ? 'min' : 'max'} has type ${m.dtype}, expected ${x.dtype}`);
    if (m.dims.reduce((a, d) => a * d, 1) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Clip ${slot === 1 ? 'min' : 'max'} must be a scalar, got shape [${m.dims.join(', ')}]`);
  }
  return [{ dtype: x.dtype, dims: x.dims }];
}

const clip: LegacyOpKernel = {
  opType: 'Clip',
  inferOutputs: inferClip,
  cpu(inputs, ctx) {
    const x = inputs[0]!;
    const [out] = inferClip(inputs.map((t) => (t ? metaOf(t) : undefined)), ctx);
    let [lo, hi] = ctx.opset < 11 ? clipAttrBounds(ctx) : [-Infinity, Infinity];
    if (inputs[1]) lo = toNumbers(inputs[1])[0]!;
    if (inputs[2]) hi = toNumbers(inputs[2])[0]!;
    // numpy.clip order: max first, then min (so min > max yields max everywhere)
    const xs = x.type === 'float32' ? (x.data as Float32Array) : toNumbers(x);
    const ys = x.type === 'float32' ? new Float32Array(xs.length) : new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      ys[i] = v < lo ? lo : v > hi ? hi : v;
      if (lo > hi) ys[i] = hi;
    }
    return [ys instanceof Float32Array ? new Tensor('float32', ys, out!.dims) : fromNumbers(out!.dtype, out!.dims, ys)];
  },
  webgpu(inputs, outputs, ctx) {
    const b = new ShaderBuilder(ctx.caps);
    const X = b.input('X', inputs[0]!, 0);
    const Y = b.output('Y', outputs[0]!);
    const n = b.uniform('n', 'u32', X.size);
    const lines = [`  if (global_idx >= ${n}) { return; }`, `  var y = ${X.get('global_idx')};`];
    if (ctx.opset < 11) {
      const [lo, hi] = clipAttrBounds(ctx);
      b.uniformArray('bounds', 'f32', [lo, hi]);
      lines.push('  y = min(max(y, bounds(0u)), bounds(1u));');
    } else {
      // Bounds stay on the GPU as one-element inputs, so runtime-computed bounds work too.
      if (inputs[1]) lines.push(`  y = max(y, ${b.input('MIN', inputs[1], 1).get('0u')});`);
      if (inputs[2]) lines.push(`  y = min(y, ${b.input('MAX', inputs[2], 2).get('0u')});`);
    }
    lines.push(`  ${Y.set('global_idx', 'y')}`);
    return { kind: 'programs', programs: [b.build({ label: `Clip:${ctx.node}`, body: lines.join('\n'), totalInvocations: X.size })] };
  },
};

// ---- Identity: the output is the input (a view on the GPU) ------------------------------------

const identity: LegacyOpKernel = {
  opType: 'Identity',
  inferOutputs(inputs, ctx) {
    const x = requireInput(inputs, 0, ctx);
    return [{ dtype: x.dtype, dims: x.dims }];
  },
  cpu: (inputs) => [inputs[0]!],
  webgpu: () => ({ kind: 'view', input: 0 }),
};

// onnxruntime's transformer optimizer emits com.microsoft Gelu (exact form) in exported models.
const GELU = SPECS.find((s) => s.opType === 'Gelu')!;
const CONTRIB: readonly UnarySpec[] = [{ ...GELU, domain: 'com.microsoft', mode: () => 'none' }];

export const kernels: readonly LegacyOpKernel[] = [...SPECS.map(makeKernel), ...CONTRIB.map(makeKernel), clip, identity];
