import { quantRange } from '../common/quant.ts';
import { product } from '../common/shape.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuKernelContext, GpuProgram } from '../webgpu/contract.ts';
import { wgslQLinearAddRound, wgslQuantizeFinish, wgslQuantParam } from '../webgpu/quant-wgsl.ts';
import { fail } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { lowestOf, type FusedIo } from './fused-io.ts';

// The WGSL of the ops fused-io.ts folds into QLinearConv / QLinearMatMul, each the expression of
// that op's own kernel, so the fused answers are the unfused WebGPU graph's.

/** Work (x elements times rereads) under which a folded QuantizeLinear runs on every load. */
export const LOAD_QUANTIZE_BUDGET = 1 << 16;

/**
 * QuantizeLinear's (quantize-linear/webgpu.ts, per-tensor float32 parameters) of x's load at flat offset
 * `off`: an i32 expression. `scale` and `zeroPoint` are f32 expressions (wgslQuantParam: uniforms when constant).
 */
export function wgslQuantizeLoad(b: ShaderBuilder, X: TensorVar, scale: string, zeroPoint: string, intType: string, ctx: KernelContext): (off: string) => string {
  const [lo, hi] = quantRange(intType as TensorMeta['dtype'], ctx, 'x');
  const finish = wgslQuantizeFinish(b, scale, zeroPoint, lo, hi, 'i32');
  return (off) => finish.scalar(X.get(off));
}

/** x's scale and zero point (input slots `slots[1]`, `slots[2]`) as f32 expressions, over `declared` buffers or uniforms. */
export function quantizeParams(b: ShaderBuilder, slots: readonly [number, number, number], ctx: GpuKernelContext, declared: (slot: number) => TensorVar): [string, string] {
  const param = (slot: number, name: string): string => wgslQuantParam(b, name, ctx.constants?.[slot], () => declared(slot))('0u');
  return [param(slots[1], 'xq_scale'), param(slots[2], 'xq_zero_point')];
}

/**
 * The same QuantizeLinear as a program of its own: x into scratch tensor 0 (for an x read many
 * times), four elements per invocation where the count allows (ShaderBuilder.elementwise), rounded
 * together (wgslQuantizeFinish).
 */
export function quantizeIntoTemp(inputs: readonly MaybeMeta[], slots: readonly [number, number, number], xInt: TensorMeta, ctx: GpuKernelContext): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const Xf = b.input('X', inputs[slots[0]]!, slots[0]);
  const [s, z] = quantizeParams(b, slots, ctx, (slot) => b.input(slot === slots[1] ? 'S' : 'Z', gpuMeta(inputs[slot]!), slot));
  const T = b.temp('T', xInt, 0);
  const [lo, hi] = quantRange(xInt.dtype, ctx, 'x');
  const finish = wgslQuantizeFinish(b, s, z, lo, hi, T.type === 'i32' ? 'i32' : 'u32');
  const { body, invocations } = b.elementwise({ out: T, count: product(xInt.dims), operands: [{ name: 'x', tensor: Xf }], value: 'x', finish });
  return b.build({ label: `${ctx.node}:quantize-x`, body, totalInvocations: invocations });
}

/** Widened copies of 8-bit lookup tables (ShaderBuilder.constant takes 32-bit values), one per table so each plan binds the same buffer. */
const widened = new WeakMap<AnyTensor, AnyTensor>();
function widenedTable(t: AnyTensor): AnyTensor {
  if (t.type === 'float32') return t;
  let w = widened.get(t);
  if (!w) widened.set(t, (w = new Tensor('int32', Int32Array.from(t.data as ArrayLike<number>), t.dims)));
  return w;
}

/**
 * Statements storing `yq` (the requantized, saturated i32 of type `intType`) at offset `o` of Y,
 * through the folded QLinearAdd (QLinearAdd's own rounding, with `residual` read at the same
 * offset: same shapes only), table (QLinearLookup: table[y - lowest], a constant buffer so pipelines
 * stay shared), DequantizeLinear (f32(q - zp) * scale) and a per-column bias Add (QLinearMatMul's
 * `column`). With `fast`, the folded QLinearAdd stores the hardware quotient's rounding and sets
 * `kiln_redo` where it may be wrong (wgslQLinearAddRound): the caller stores again without `fast` then.
 */
export function wgslFusedStore(b: ShaderBuilder, io: FusedIo, intType: string, Y: TensorVar, residual?: TensorVar): (o: string, column?: string, fast?: boolean) => string[] {
  const lines: string[] = [];
  let value = 'yq';
  let valueType = intType;
  let add: ((o: string, fast?: boolean) => string[]) | undefined;
  if (io.add) {
    if (!residual) fail('INTERNAL', 'a folded QLinearAdd needs its residual operand declared');
    const p = b.uniformArray('add_params', 'f32', Array.from(io.add.data as Float32Array));
    const range: [number, number] = intType === 'int8' ? [-128, 127] : [0, 255];
    add = (o, fast) => [
      `let add_a = ${p}(0u) * (f32(yq) - ${p}(1u));`,
      `let add_b = ${p}(2u) * (f32(${residual.get(o)}) - ${p}(3u));`,
      ...wgslQLinearAddRound(b, 'add_a', 'add_b', `${p}(4u)`, `${p}(5u)`, range, 'ya', fast),
    ];
    value = 'ya';
  }
  if (io.lookup) {
    const table = b.constant('LUT', widenedTable(io.lookup));
    lines.push(`let yl = ${table.get(`u32(${value} - (${lowestOf(intType)}))`)};`);
    value = 'yl';
    valueType = io.lookup.type;
  }
  if (io.dequantize) {
    const s = b.uniform('dq_scale', 'f32', Number(io.dequantize.scale.data[0]));
    const z = b.uniform('dq_zero', 'i32', io.dequantize.zeroPoint ? Number(io.dequantize.zeroPoint.data[0]) : 0);
    lines.push(`let yd = f32(${value} - ${z}) * ${s};`);
    value = 'yd';
    valueType = 'float32';
  }
  // the folded bias Add (QLinearMatMul: the caller passes the output column), a uniform per column
  const bias = io.bias && b.uniformArray('dq_bias', 'f32', Array.from(io.bias.data as Float32Array));
  const final = valueType === 'float32' ? value : `${Y.type}(${value})`;
  return (o, column, fast) => {
    if (bias && column === undefined) fail('INTERNAL', 'a folded bias needs the output column');
    return [...(add ? add(o, fast) : []), ...lines, Y.set(o, bias ? `${final} + ${bias}(${column})` : final)];
  };
}
