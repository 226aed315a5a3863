import type { AnyTensor } from '../../../core/tensor.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import type { Graph, Node } from '../ir.ts';

/*
 * Helpers for the passes that recognise decomposed ops (LayerNormalization, Gelu). A wrong match
 * is a silent wrong answer, so every check here is exact: constants within 1e-6 relative, shapes
 * that cannot raise the result's rank, ops of the default domain only.
 */

export const isOp = (n: Node | undefined, opType: string): n is Node => n !== undefined && n.opType === opType && n.domain === '';

/** |v - want| <= 1e-6 |want|: f32-stored constants (sqrt 2 = 1.41421354) match their exact values. */
export const near = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) <= 1e-6 * Math.abs(want);

const isFloat = (t: AnyTensor | undefined): t is AnyTensor => t !== undefined && (t.type === 'float32' || t.type === 'float16');

/**
 * The value of a one-element float initializer of rank 0 or 1, else undefined. Rank 1 ([1], as
 * PaddlePaddle writes scalars) could raise a rank-0 operand to rank 1; the patterns recognised
 * here reduce over or normalise an axis, or are activations of rank >= 1 tensors in every
 * exporter seen, so [1] is accepted (docs/decisions.md, gpu-fusion).
 */
export function scalarConstant(graph: Graph, name: string | undefined): number | undefined {
  // an initializer that is also a graph input is a default a feed may override: not a constant
  const t = name && !graph.inputs.some((i) => i.name === name) ? graph.initializers.get(name) : undefined;
  return isFloat(t) && t.size === 1 && t.dims.length <= 1 ? toNumbers(t)[0] : undefined;
}

/** The other input of a binary node when exactly one of its inputs is `x`. */
export function otherInput(n: Node, x: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === x && n.inputs[1] !== x) return n.inputs[1];
  if (n.inputs[1] === x && n.inputs[0] !== x) return n.inputs[0];
  return undefined;
}

/** The rank of a value when the model states it (graph inputs, value_info), else undefined. */
export function rankOf(graph: Graph, name: string): number | undefined {
  const info = graph.inputs.find((i) => i.name === name) ?? graph.valueInfo.get(name);
  return info?.dims?.length;
}
