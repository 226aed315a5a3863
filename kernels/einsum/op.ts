import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, product, requireType } from '../common/shape.ts';
import { rowMajorStrides } from '../common/strided.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { planEinsum, type EinsumPlan } from './equation.ts';

/**
 * Einsum: out[output labels] = sum over the other labels of the product of the inputs, each read
 * at its labels (a label repeated within one input reads its diagonal). The reference is the
 * definition as plain loops over every label's values.
 */

export function einsumPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): { plan: EinsumPlan; out: TensorMeta } {
  const equation = ctx.attrs.string('equation');
  if (equation === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': Einsum needs the 'equation' attribute`);
  if (inputs.length === 0 || inputs.some((m) => !m)) fail('INVALID_GRAPH', `node '${ctx.node}': Einsum needs at least one input and no empty ones`);
  const metas = inputs as readonly TensorMeta[];
  metas.forEach((m, i) => {
    requireType(m, NUMERIC_TYPES, ctx, `input ${i}`);
    if (m.dtype !== metas[0]!.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Einsum input ${i} is ${m.dtype}, input 0 is ${metas[0]!.dtype}`);
  });
  const plan = planEinsum(equation, metas.map((m) => m.dims), `node '${ctx.node}'`);
  return { plan, out: { dtype: metas[0]!.dtype, dims: plan.outDims } };
}

/**
 * Per input, the element stride each label moves it by (summed over a repeated label's axes, which
 * is what reads the diagonal; 0 for a broadcast size-1 ellipsis axis).
 */
export function labelStrides(plan: EinsumPlan, shapes: readonly (readonly number[])[]): Map<number, number>[] {
  return plan.inputs.map((labels, i) => {
    const dims = shapes[i]!;
    const strides = rowMajorStrides(dims);
    const m = new Map<number, number>();
    labels.forEach((l, axis) => {
      const s = dims[axis] === 1 && plan.sizes.get(l)! > 1 ? 0 : strides[axis]!;
      m.set(l, (m.get(l) ?? 0) + s);
    });
    return m;
  });
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const ts = inputs as readonly AnyTensor[];
  const { plan, out } = einsumPlan(ts.map((t) => ({ dtype: t.type, dims: t.dims })), ctx);
  const values = ts.map(toNumbers);
  const strides = labelStrides(plan, ts.map((t) => t.dims));
  const labels = [...plan.output, ...plan.reduced];
  const value = new Map<number, number>(labels.map((l) => [l, 0]));
  const total = product(out.dims);
  const reducedCount = product(plan.reduced.map((l) => plan.sizes.get(l)!));
  const res = new Float64Array(total);
  // Walk every assignment of output labels, then every assignment of summed labels (last fastest).
  const assign = (order: readonly number[], flat: number): void => {
    for (let i = order.length - 1; i >= 0; i--) {
      const n = plan.sizes.get(order[i]!)!;
      value.set(order[i]!, flat % n);
      flat = Math.floor(flat / n);
    }
  };
  for (let o = 0; o < total; o++) {
    assign(plan.output, o);
    let sum = 0;
    for (let r = 0; r < reducedCount; r++) {
      assign(plan.reduced, r);
      let p = 1;
      for (let i = 0; i < ts.length; i++) {
        let off = 0;
        for (const [l, s] of strides[i]!) off += value.get(l)! * s;
        p *= values[i]![off]!;
      }
      sum += p;
    }
    res[o] = sum;
  }
  return [fromNumbers(out.dtype, out.dims, res)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'Einsum', inferOutputs: (inputs, ctx) => [einsumPlan(inputs, ctx).out], reference },
];
