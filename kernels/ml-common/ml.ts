// Shared by the ai.onnx.ml families: the score transforms, attribute readers and the [N, C] view of
// an input. The transforms follow onnxruntime's ml_common.h in float32 (each step rounded with
// Math.fround), including its ErfInv approximation for PROBIT, since users compare with it.
import { fail } from '../../core/errors.ts';
import { toNumbers } from '../common/values.ts';
import type { KernelContext } from '../contract.ts';

export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_NUMERIC_INPUTS = ['float32', 'float64', 'int64', 'int32'] as const;

export type PostTransform = 'NONE' | 'SOFTMAX' | 'LOGISTIC' | 'SOFTMAX_ZERO' | 'PROBIT';
const POST_TRANSFORMS: readonly PostTransform[] = ['NONE', 'SOFTMAX', 'LOGISTIC', 'SOFTMAX_ZERO', 'PROBIT'];

export function postTransformOf(ctx: KernelContext, name = 'post_transform'): PostTransform {
  const v = ctx.attrs.string(name, 'NONE');
  if (!(POST_TRANSFORMS as readonly string[]).includes(v)) fail('INVALID_MODEL', `node '${ctx.node}': unknown ${name} '${v}'`);
  return v as PostTransform;
}

/** TreeEnsemble (ml opset 5) numbers its transforms: 0 NONE, 1 SOFTMAX, 2 LOGISTIC, 3 SOFTMAX_ZERO, 4 PROBIT. */
export function postTransformFromInt(ctx: KernelContext, v: number): PostTransform {
  const t = POST_TRANSFORMS[v];
  return t ?? fail('INVALID_MODEL', `node '${ctx.node}': unknown post_transform ${v}`);
}

const f = Math.fround;

export function logistic(x: number): number {
  const v = f(1 / f(1 + f(Math.exp(-Math.abs(x)))));
  return x < 0 ? f(1 - v) : v;
}

function erfInv(x0: number): number {
  const sgn = x0 < 0 ? -1 : 1;
  const x = f(f(1 - x0) * f(1 + x0));
  const log = f(Math.log(x));
  const v = f(f(2 / f(f(Math.PI) * f(0.147))) + f(0.5 * log));
  const v2 = f(f(1 / f(0.147)) * log);
  const v3 = f(-v + f(Math.sqrt(f(f(v * v) - v2))));
  return f(sgn * f(Math.sqrt(v3)));
}

export function probit(x: number): number {
  return f(f(Math.SQRT2) * erfInv(f(f(2 * x) - 1)));
}

export function softmaxInPlace(v: Float64Array | number[]): void {
  let max = -3.4028234663852886e38;
  for (const x of v) if (x > max) max = x;
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = f(Math.exp(f(v[i]! - max)));
    sum = f(sum + v[i]!);
  }
  for (let i = 0; i < v.length; i++) v[i] = f(v[i]! / sum);
}

/** onnxruntime's SOFTMAX_ZERO: entries that are (nearly) zero stay zero instead of becoming exp(0 - max). */
export function softmaxZeroInPlace(v: Float64Array | number[]): void {
  let max = -3.4028234663852886e38;
  for (const x of v) if (x > max) max = x;
  const expNegMax = f(Math.exp(-max));
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x > 1e-7 || x < -1e-7) {
      v[i] = f(Math.exp(f(x - max)));
      sum = f(sum + v[i]!);
    } else {
      v[i] = f(x * expNegMax);
    }
  }
  for (let i = 0; i < v.length; i++) v[i] = f(v[i]! / sum);
}

/** Applies a transform to one row of two or more scores (ml_common.h write_scores, scores.size() >= 2). */
export function transformRow(v: Float64Array, t: PostTransform): void {
  if (t === 'PROBIT') for (let i = 0; i < v.length; i++) v[i] = probit(v[i]!);
  else if (t === 'LOGISTIC') for (let i = 0; i < v.length; i++) v[i] = logistic(v[i]!);
  else if (t === 'SOFTMAX') softmaxInPlace(v);
  else if (t === 'SOFTMAX_ZERO') softmaxZeroInPlace(v);
}

/** A float list given either as `name` (floats) or as `name_as_tensor` (ml opset 3: a tensor, double in practice). */
export function floatsOrTensor(ctx: KernelContext, name: string): readonly number[] {
  const t = ctx.attrs.tensor(`${name}_as_tensor`);
  const plain = ctx.attrs.floats(name);
  if (t && plain && plain.length > 0 && t.size > 0) fail('INVALID_MODEL', `node '${ctx.node}': both ${name} and ${name}_as_tensor are set`);
  if (t && t.size > 0) return Array.from(toNumbers(t));
  return plain ?? [];
}

/** The [N, C] view onnxruntime's ml ops take of an input: [C] is one row, [N, C] rows, higher ranks refused. */
export function rowsOf(x: { readonly dims: readonly number[] }, ctx: KernelContext, op: string): { n: number; c: number } {
  if (x.dims.length === 1) return { n: 1, c: x.dims[0]! };
  if (x.dims.length === 2) return { n: x.dims[0]!, c: x.dims[1]! };
  return fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs X of rank 1 or 2, got [${x.dims.join(', ')}]`);
}

/** Checks that attribute lists that describe one table have one length each. */
export function sameLengths(ctx: KernelContext, lists: Readonly<Record<string, readonly unknown[] | undefined>>): number {
  let n: number | undefined;
  let first = '';
  for (const [name, list] of Object.entries(lists)) {
    if (list === undefined) continue;
    if (n === undefined) {
      n = list.length;
      first = name;
    } else if (list.length !== n) {
      fail('INVALID_MODEL', `node '${ctx.node}': attribute ${name} has ${list.length} entries, ${first} has ${n}`);
    }
  }
  return n ?? 0;
}
