import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Cast (target from the `to` attribute) and CastLike (target = the second input's type).
 * Numbers convert like a C cast (truncation toward zero, integers wrap to the target width, as
 * the ONNX reference does for int4); bool is "nonzero" (NaN included); strings parse and print
 * on the CPU only. `saturate` only concerns float8 types, which Kiln does not read.
 */

const SIXTY_FOUR = new Set<DataType>(['int64', 'uint64']);

function targetOf(ctx: KernelContext): DataType {
  const to = ctx.attrs.int('to');
  if (to === undefined) fail('INVALID_GRAPH', `node '${ctx.node}': Cast needs the 'to' attribute`);
  return dataTypeFromOnnx(to, `node '${ctx.node}' (Cast to)`);
}

export function castTensor(x: AnyTensor, to: DataType): AnyTensor {
  if (x.type === to) return x;
  if (to === 'string') return new Tensor('string', numbersToStrings(x), x.dims);
  if (x.type === 'string') return fromParsed(x.data as string[], to, x.dims);
  if (SIXTY_FOUR.has(x.type) && SIXTY_FOUR.has(to)) {
    const src = x.data as BigInt64Array;
    return to === 'int64' ? new Tensor('int64', BigInt64Array.from(src, (v) => BigInt.asIntN(64, v)), x.dims) : new Tensor('uint64', BigUint64Array.from(src, (v) => BigInt.asUintN(64, v)), x.dims);
  }
  const v = toNumbers(x);
  if (to === 'bool') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i] !== 0 ? 1 : 0; // NaN is true, as in numpy
    return new Tensor('bool', out, x.dims);
  }
  if (to === 'int4' || to === 'uint4') {
    const out = to === 'int4' ? new Int8Array(v.length) : new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const n = Number.isFinite(v[i]!) ? Math.trunc(v[i]!) & 15 : 0;
      out[i] = to === 'int4' && n >= 8 ? n - 16 : n;
    }
    return to === 'int4' ? new Tensor('int4', out as Int8Array, x.dims) : new Tensor('uint4', out as Uint8Array, x.dims);
  }
  return fromNumbers(to, x.dims, v);
}

// ONNX spells the special values INF, -INF and NaN; float32 prints its shortest round-trip form.
function numbersToStrings(x: AnyTensor): string[] {
  if (SIXTY_FOUR.has(x.type)) return Array.from(x.data as BigInt64Array, (v) => v.toString());
  if (x.type === 'bool') return Array.from(x.data as Uint8Array, (v) => (v ? 'true' : 'false'));
  const single = x.type === 'float32' || x.type === 'float16';
  return Array.from(toNumbers(x), (v) => {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'INF' : '-INF';
    if (!single) return String(v);
    for (let p = 1; p < 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
    return String(Number(v.toPrecision(9)));
  });
}

function fromParsed(strings: readonly string[], to: DataType, dims: readonly number[]): AnyTensor {
  if (SIXTY_FOUR.has(to)) {
    const parsed = strings.map((s) => parseBig(s.trim()));
    return to === 'int64' ? new Tensor('int64', BigInt64Array.from(parsed, (v) => BigInt.asIntN(64, v)), dims) : new Tensor('uint64', BigUint64Array.from(parsed, (v) => BigInt.asUintN(64, v)), dims);
  }
  const numbers = strings.map(parseNumber);
  if (to === 'bool') return new Tensor('bool', Uint8Array.from(numbers, (v) => (v !== 0 ? 1 : 0)), dims);
  return fromNumbers(to, dims, numbers);
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'true') return 1;
  if (t === 'false') return 0;
  const v = Number(t);
  return t === '' ? NaN : v;
}

function parseBig(s: string): bigint {
  if (/^[+-]?\d+$/.test(s)) return BigInt(s);
  const v = parseNumber(s);
  return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
}

const inferCast = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
  const x = requireInput(inputs, 0, ctx);
  return [{ dtype: targetOf(ctx), dims: x.dims }];
};

const inferCastLike = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
  const x = requireInput(inputs, 0, ctx);
  return [{ dtype: requireInput(inputs, 1, ctx).dtype, dims: x.dims }];
};

export const definitions: readonly OpDefinition[] = [
  { opType: 'Cast', inferOutputs: inferCast, reference: (inputs, ctx) => [castTensor(inputs[0]!, targetOf(ctx))] },
  { opType: 'CastLike', inferOutputs: inferCastLike, reference: (inputs) => [castTensor(inputs[0]!, inputs[1]!.type)] },
];
