import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { requireInput } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { storageType } from '../webgpu/storage.ts';
import { wgslWrap } from '../webgpu/wrap.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuLowering } from '../webgpu/contract.ts';

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

// ---- GPU --------------------------------------------------------------------------------------

// float16 values live as f32 on the GPU; a cast to float16 rounds there too, so a GPU chain sees
// the same values the CPU does. pack2x16float is undefined past the half range: overflow by hand
// (infinity built from x's bits, since a constant inf is a WGSL compile error).
const TO_F16 = `fn kiln_to_f16(x: f32) -> f32 {
  if (abs(x) >= 65520.0) { return bitcast<f32>((bitcast<u32>(x) & 0x80000000u) | 0x7f800000u); }
  return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x;
}`;

function castProgram(xm: TensorMeta, out: TensorMeta, ctx: GpuKernelContext, label: string): GpuLowering {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', xm, 0);
  const Y = b.output('Y', out);
  const n = b.uniform('n', 'u32', X.size);
  const from = X.type;
  let expr: string;
  // NaN is true; compare bits, since x != 0.0 may be compiled as an ordered (false for NaN) compare
  if (out.dtype === 'bool') expr = from === 'f32' ? 'select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u)' : `select(0u, 1u, x != ${from}(0))`;
  else if (Y.type === 'f32') {
    expr = `f32(x)`;
    if (out.dtype === 'float16' && xm.dtype !== 'float16') {
      b.helper('kiln_to_f16', TO_F16);
      expr = `kiln_to_f16(${expr})`;
    }
  } else if (Y.type === 'i32') {
    // f32 -> i32 truncates toward zero; u32 -> i32 keeps the bits (wraps, like C)
    expr = wgslWrap(out.dtype, from === 'i32' ? 'x' : `i32(x)`);
  } else {
    // negative floats go through i32 so they wrap (C semantics) instead of clamping to 0
    const conv = from === 'f32' ? 'select(u32(i32(x)), u32(x), x >= 2147483648.0)' : from === 'i32' ? 'u32(x)' : 'x';
    expr = wgslWrap(out.dtype, conv);
  }
  const body = [`  if (global_idx >= ${n}) { return; }`, `  let x = ${X.get('global_idx')};`, `  ${Y.set('global_idx', expr)}`].join('\n');
  return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: X.size })] };
}

function gpuCast(xm: TensorMeta, out: TensorMeta, ctx: GpuKernelContext, label: string): GpuLowering | undefined {
  if (xm.dtype === out.dtype) return { kind: 'view', input: 0 };
  // the same 32-bit words either way: no program needed
  if (storageType(xm.dtype) === 'f32' && out.dtype === 'float32') return { kind: 'view', input: 0 };
  if (storageType(xm.dtype) === 'i32' && (out.dtype === 'int32' || out.dtype === 'int64')) return { kind: 'view', input: 0 };
  if (storageType(xm.dtype) === 'u32' && out.dtype === 'uint32') return { kind: 'view', input: 0 };
  return castProgram(xm, out, ctx, label);
}

const cast: LegacyOpKernel = {
  opType: 'Cast',
  inferOutputs(inputs, ctx) {
    const x = requireInput(inputs, 0, ctx);
    return [{ dtype: targetOf(ctx), dims: x.dims }];
  },
  cpu: (inputs, ctx) => [castTensor(inputs[0]!, targetOf(ctx))],
  webgpu: (inputs, outputs, ctx) => gpuCast(inputs[0]!, outputs[0]!, ctx, `Cast:${ctx.node}`),
};

const inferCastLike = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
  const x = requireInput(inputs, 0, ctx);
  return [{ dtype: requireInput(inputs, 1, ctx).dtype, dims: x.dims }];
};

const castLike: LegacyOpKernel = {
  opType: 'CastLike',
  inferOutputs: inferCastLike,
  cpu: (inputs) => [castTensor(inputs[0]!, inputs[1]!.type)],
  webgpu: (inputs, outputs, ctx) => gpuCast(inputs[0]!, outputs[0]!, ctx, `CastLike:${ctx.node}`),
};

export const kernels: readonly LegacyOpKernel[] = [cast, castLike];
