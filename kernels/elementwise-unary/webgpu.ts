import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { clipAttrBounds, CONTRIB_SPECS } from './op.ts';
import { CLIP_MATH, UNARY_SPECS, wgslNanPassThrough, wgslUnaryExpr, type UnarySpec } from './unary-math.ts';

function unaryProgram(spec: UnarySpec, xm: TensorMeta, out: TensorMeta, ctx: GpuKernelContext): GpuLowering {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', xm, 0);
  const Y = b.output('Y', out);
  const n = b.uniform('n', 'u32', X.size);
  const params = spec.params?.(ctx);
  if (params) b.uniformArray('params', 'f32', params);
  const expr = wgslUnaryExpr(b, spec, X.type, (i) => `params(${i}u)`, spec.mode?.(ctx) ?? '', out.dtype);
  const { body, invocations, vec4 } = b.elementwise({ out: Y, count: X.size, operands: [{ name: 'x', tensor: X }], value: expr, countUniform: n });
  return { kind: 'programs', programs: [b.build({ label: `${spec.opType}${vec4 ? '/vec4' : ''}:${ctx.node}`, body, totalInvocations: invocations })] };
}

const clip: WebGpuKernel = (inputs, outputs, ctx) => {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', X.size);
  let lo: string | undefined;
  let hi: string | undefined;
  if (ctx.opset < 11) {
    b.uniformArray('bounds', 'f32', clipAttrBounds(ctx));
    [lo, hi] = ['bounds(0u)', 'bounds(1u)'];
  } else {
    // Bounds stay on the GPU as one-element inputs, so runtime-computed bounds work too.
    if (inputs[1]) lo = b.input('MIN', inputs[1], 1).get('0u');
    if (inputs[2]) hi = b.input('MAX', inputs[2], 2).get('0u');
  }
  let expr = lo ? `max(x, ${lo})` : 'x';
  if (lo && hi) expr = CLIP_MATH.wgsl('x', lo, hi);
  else if (hi) expr = `min(x, ${hi})`;
  if (X.type === 'f32') expr = wgslNanPassThrough(b, expr);
  const { body, invocations, vec4 } = b.elementwise({ out: Y, count: X.size, operands: [{ name: 'x', tensor: X }], value: expr, countUniform: n });
  return { kind: 'programs', programs: [b.build({ label: `Clip${vec4 ? '/vec4' : ''}:${ctx.node}`, body, totalInvocations: invocations })] };
};

const lowering = (spec: UnarySpec): WebGpuKernel => (inputs, outputs, ctx) => unaryProgram(spec, inputs[0]!, outputs[0]!, ctx);

export const webgpu: ImplementationTable<WebGpuKernel> = {
  ...Object.fromEntries([...UNARY_SPECS, ...CONTRIB_SPECS].map((s) => [opKey(s.domain, s.opType), lowering(s)])),
  [opKey('', 'Clip')]: clip,
  [opKey('', 'Identity')]: () => ({ kind: 'view', input: 0 }),
};
