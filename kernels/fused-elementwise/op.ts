import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, requireInput } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { CAST_FROM, parseProgram, stepCpu, type Program, type Ref } from './program.ts';

// The program format is documented in program.ts.

export function inferFused(inputs: readonly MaybeMeta[], ctx: KernelContext): { program: Program; out: TensorMeta } {
  const program = parseProgram(ctx.attrs, ctx.node, inputs.length);
  const metas = inputs.map((_, i) => requireInput(inputs, i, ctx));
  metas.forEach((m, i) => {
    const role = program.roles[i]!;
    const ok = role === 'float' ? m.dtype === 'float32' : role === 'cond' ? m.dtype === 'bool' : CAST_FROM.includes(m.dtype);
    if (!ok) fail('INVALID_GRAPH', `node '${ctx.node}': FusedElementwise input ${i} (read as ${role}) has type ${m.dtype}`);
  });
  const minRank: number[] = new Array<number>(ctx.attrs.int('min_rank', 0)).fill(1);
  return { program, out: { dtype: program.outType, dims: broadcastShapes([...metas.map((m) => m.dims), minRank], ctx) } };
}

/**
 * The reference and the js backend's kernel: one loop over the output, every step per element in
 * float64 and rounded to float32 after each step, so it matches the unfused ops exactly (a final
 * QuantizeLinear's integers are exact in float32 too).
 */
const reference: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const { program, out } = inferFused(inputs.map((t) => (t ? metaOf(t) : undefined)), ctx);
  const size = out.dims.reduce((a, b) => a * b, 1);
  const values = inputs.map((t) => toNumbers(t!));
  const maps = inputs.map((t) => broadcastIndexMap(out.dims, t!.dims));
  const { steps, constants } = program;
  const ins = new Float64Array(inputs.length);
  const results = new Float64Array(steps.length);
  const v = (r: Ref): number => (r.kind === 'i' ? ins[r.index]! : r.kind === 's' ? results[r.index]! : constants[r.index]!);
  const y = new Float64Array(size);
  for (let e = 0; e < size; e++) {
    for (let i = 0; i < ins.length; i++) ins[i] = values[i]![maps[i] ? maps[i]![e]! : e]!;
    for (let s = 0; s < steps.length; s++) results[s] = Math.fround(stepCpu(steps[s]!, v, constants));
    y[e] = results[steps.length - 1]!;
  }
  return [fromNumbers(out.dtype, out.dims, y)];
};

export const definitions: readonly OpDefinition[] = [
  { opType: 'FusedElementwise', domain: 'kiln', inferOutputs: (inputs, ctx) => [inferFused(inputs, ctx).out], reference },
];
