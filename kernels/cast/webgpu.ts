import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { storageType } from '../webgpu/storage.ts';
import { wgslWrap } from '../webgpu/wrap.ts';

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
  const { body, invocations, vec4 } = b.elementwise({ out: Y, count: X.size, operands: [{ name: 'x', tensor: X }], value: expr, countUniform: n });
  return { kind: 'programs', programs: [b.build({ label: vec4 ? `${label}/vec4` : label, body, totalInvocations: invocations })] };
}

function gpuCast(xm: TensorMeta, out: TensorMeta, ctx: GpuKernelContext, label: string): GpuLowering | undefined {
  if (xm.dtype === out.dtype) return { kind: 'view', input: 0 };
  // the same 32-bit words either way: no program needed
  if (storageType(xm.dtype) === 'f32' && out.dtype === 'float32') return { kind: 'view', input: 0 };
  if (storageType(xm.dtype) === 'i32' && (out.dtype === 'int32' || out.dtype === 'int64')) return { kind: 'view', input: 0 };
  if (storageType(xm.dtype) === 'u32' && out.dtype === 'uint32') return { kind: 'view', input: 0 };
  return castProgram(xm, out, ctx, label);
}

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'Cast')]: (inputs, outputs, ctx) => gpuCast(inputs[0]!, outputs[0]!, ctx, `Cast:${ctx.node}`),
  [opKey('', 'CastLike')]: (inputs, outputs, ctx) => gpuCast(inputs[0]!, outputs[0]!, ctx, `CastLike:${ctx.node}`),
};
