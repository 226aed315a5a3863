import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { Attributes } from '../../core/attributes.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { ML_DOMAIN } from '../ml-common/ml.ts';

/**
 * LabelEncoder (ai.onnx.ml 2 to 4): maps each element of X through keys -> values, elements with no
 * key to the default. Keys and values come as keys_strings / keys_int64s / keys_floats (and values_*)
 * or, from ml opset 4, as keys_tensor / values_tensor of any of those element types (int16, double...);
 * the default is default_string / default_int64 / default_float or default_tensor, else the spec's
 * "_Unused", -1 or -0.0. Float keys match by value (-0 = 0); a NaN key matches NaN from opset 4 on.
 * Opset 1 (classes_strings, string <-> index) is a different op and is refused.
 */

type Key = string | number;

interface Encoder {
  readonly keyType: DataType;
  readonly valueType: DataType;
  readonly map: ReadonlyMap<Key, Key>;
  readonly fallback: Key;
}

const encoders = new WeakMap<Attributes, Encoder>();

/** One attribute family's list: the named forms for `what` ('keys' / 'values'), as [element type, values]. */
function listOf(ctx: KernelContext, what: 'keys' | 'values'): [DataType, Key[]] {
  const a = ctx.attrs;
  const found: [DataType, Key[]][] = [];
  const strings = a.strings(`${what}_strings`);
  if (strings) found.push(['string', [...strings]]);
  const ints = a.ints(`${what}_int64s`);
  if (ints) found.push(['int64', [...ints]]);
  const floats = a.floats(`${what}_floats`);
  if (floats) found.push(['float32', floats.map(Math.fround)]);
  const t = ctx.opset >= 4 ? a.tensor(`${what}_tensor`) : undefined;
  if (t) found.push([t.type, t.type === 'string' ? [...(t.data as string[])] : Array.from(toNumbers(t))]);
  if (found.length !== 1) fail('INVALID_MODEL', `node '${ctx.node}': LabelEncoder needs exactly one of ${what}_strings, ${what}_int64s, ${what}_floats${ctx.opset >= 4 ? `, ${what}_tensor` : ''} (got ${found.length})`);
  return found[0]!;
}

function defaultOf(ctx: KernelContext, valueType: DataType): Key {
  const t = ctx.opset >= 4 ? ctx.attrs.tensor('default_tensor') : undefined;
  if (t) {
    if (t.type !== valueType) fail('INVALID_MODEL', `node '${ctx.node}': default_tensor is ${t.type}, the values ${valueType}`);
    if (t.size !== 1) fail('INVALID_MODEL', `node '${ctx.node}': default_tensor must hold one value, it holds ${t.size}`);
    return t.type === 'string' ? (t.data as string[])[0]! : toNumbers(t)[0]!;
  }
  if (valueType === 'string') return ctx.attrs.string('default_string', '_Unused');
  if (valueType === 'float32' || valueType === 'float64' || valueType === 'float16') return ctx.attrs.float('default_float', -0);
  return ctx.attrs.int('default_int64', -1);
}

function encoderOf(ctx: KernelContext): Encoder {
  const hit = encoders.get(ctx.attrs);
  if (hit) return hit;
  if (ctx.opset < 2) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': LabelEncoder of ai.onnx.ml opset ${ctx.opset} (classes_strings) is not supported; opset 2 and later are`);
  const [keyType, keys] = listOf(ctx, 'keys');
  const [valueType, values] = listOf(ctx, 'values');
  if (keys.length !== values.length) fail('INVALID_MODEL', `node '${ctx.node}': LabelEncoder has ${keys.length} keys and ${values.length} values`);
  const map = new Map<Key, Key>();
  // the first of repeated keys wins, as an insert-if-absent map does; a NaN key matches NaN from
  // opset 4 on (onnxruntime: before that, NaN never equals a key)
  keys.forEach((k, i) => {
    if (!map.has(k) && !(ctx.opset < 4 && Number.isNaN(k))) map.set(k, values[i]!);
  });
  const e = { keyType, valueType, map, fallback: defaultOf(ctx, valueType) };
  encoders.set(ctx.attrs, e);
  return e;
}

function output(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const e = encoderOf(ctx);
  const x = requireInput(inputs, 0, ctx);
  requireType(x, [e.keyType], ctx, 'X');
  return { dtype: e.valueType, dims: x.dims };
}

const labelEncoder: OpDefinition = {
  opType: 'LabelEncoder',
  domain: ML_DOMAIN,
  inferOutputs: (inputs, ctx) => [output(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const out = output([{ dtype: xt.type, dims: xt.dims }], ctx);
    const e = encoderOf(ctx);
    const xs: Key[] = xt.type === 'string' ? (xt.data as string[]) : Array.from(xt.type === 'float32' ? Float32Array.from(toNumbers(xt)) : toNumbers(xt));
    const ys = xs.map((k) => e.map.get(k) ?? e.fallback);
    if (out.dtype === 'string') return [new Tensor('string', ys as string[], out.dims)];
    return [fromNumbers(out.dtype, out.dims, ys as number[])];
  },
};

export const definitions: readonly OpDefinition[] = [labelEncoder];
