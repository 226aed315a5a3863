import type { QuantParamLayout } from '../common/quant.ts';
import { product } from '../common/shape.ts';
import type { MaybeMeta, TensorMeta } from '../contract.ts';
import type { GpuKernelContext, GpuProgram } from '../webgpu/contract.ts';
import { wgslParamIndex, wgslQuantParam } from '../webgpu/quant-wgsl.ts';
import type { LaneFinish, ShaderBuilder } from '../webgpu/shader-builder.ts';

// The per-element quantization programs' inputs, outputs and layout on WebGPU (quantize-linear/webgpu.ts,
// quantize-dequantize/webgpu.ts).

/** A scalar lives on the GPU as one element of shape [1]. */
export const gpuDims = (d: readonly number[]): readonly number[] => (d.length ? d : [1]);

/**
 * X, scale, optional zero point and Y, plus the element -> parameter index, for both directions.
 * `s(j)` and `z(j)` are f32 expressions: uniforms for constant per-tensor parameters.
 */
export function declareQuantIo(b: ShaderBuilder, inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], layout: QuantParamLayout, ctx: GpuKernelContext) {
  const X = b.input('X', { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) }, 0);
  const s = wgslQuantParam(b, 'scale', ctx.constants?.[1], () => b.input('S', { ...inputs[1]!, dims: gpuDims(inputs[1]!.dims) }, 1));
  const zp = inputs[2];
  const z = zp ? wgslQuantParam(b, 'zero_point', ctx.constants?.[2], () => b.input('Z', { ...zp, dims: gpuDims(zp.dims) }, 2)) : undefined;
  const Y = b.output('Y', { ...outputs[0]!, dims: gpuDims(outputs[0]!.dims) });
  const n = b.uniform('n', 'u32', product(outputs[0]!.dims));
  return { X, s, z, Y, n, param: wgslParamIndex(b, layout) };
}

/**
 * The per-element program of QuantizeLinear, DequantizeLinear and kiln.QuantizeDequantize: with one
 * parameter for all elements (per-tensor), ShaderBuilder.elementwise's vec4 form (4 elements per
 * invocation; the same quantization as a quantize-x program: 147k values 6.5 -> 4.7 ms on SwiftShader);
 * else one element per invocation at its parameter index `j`.
 */
export function perElement(b: ShaderBuilder, io: ReturnType<typeof declareQuantIo>, layout: QuantParamLayout, value: (x: string, j: string) => string, label: string, finish?: LaneFinish): GpuProgram {
  const { X, Y, n } = io;
  if (layout.kind === 'tensor') {
    // `finish` (per-tensor only): the last step on the four lanes together; `value` gives the lanes' input to it
    const { body, invocations } = b.elementwise({ out: Y, count: Y.size, operands: [{ name: 'x', tensor: X }], value: value('x', '0u'), countUniform: n, ...(finish ? { finish } : {}) });
    return b.build({ label, body, totalInvocations: invocations });
  }
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = ${io.param}(global_idx);`,
    `  ${Y.set('global_idx', value(X.get('global_idx'), 'j'))}`,
  ].join('\n');
  return b.build({ label, body, totalInvocations: Y.size });
}

