import type { AnyTensor } from '../../../core/tensor.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

/** The single value of a one-element float constant, or undefined. */
function scalar(t: AnyTensor | undefined): number | undefined {
  return t && t.size === 1 && (t.type === 'float32' || t.type === 'float16') ? toNumbers(t)[0] : undefined;
}

/** Clip's bounds when they are constants (inputs since opset 11, attributes before). */
function clipBounds(clip: Node, graph: Graph, opset: number): [number, number] | undefined {
  if (opset < 11) return [clip.attrs.float('min', -Infinity), clip.attrs.float('max', Infinity)];
  const lo = clip.inputs[1] ? scalar(graph.initializers.get(clip.inputs[1])) : -Infinity;
  const hi = clip.inputs[2] ? scalar(graph.initializers.get(clip.inputs[2])) : Infinity;
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

/** The other input of a binary node when one input is `x`. */
const otherInput = (n: Node, x: string): string | undefined => (n.inputs[0] === x ? n.inputs[1] : n.inputs[1] === x ? n.inputs[0] : undefined);

/**
 * x * Clip(x + 3, 0, 6) / 6 (also * (1/6), and either operand order) becomes HardSwish(x): how
 * PaddlePaddle and some TensorFlow exports write it (PaddleOCR rec/det/cls have 28/24/18 of them).
 * One op instead of four, which the fusion pass then folds into the producing Conv's epilogue. The
 * intermediate values must feed nothing else.
 */
export function recognizeHardSwish(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const add of graph.nodes) {
    if (add.opType !== 'Add' || add.domain !== '' || replace.has(add)) continue;
    const [a, b] = [add.inputs[0]!, add.inputs[1]!];
    const x = scalar(graph.initializers.get(b)) === 3 ? a : scalar(graph.initializers.get(a)) === 3 ? b : undefined;
    if (x === undefined || graph.initializers.has(x)) continue;
    const clip = index.onlyConsumer(add.outputs[0]!);
    if (!clip || clip.opType !== 'Clip' || clip.domain !== '' || clip.inputs[0] !== add.outputs[0]) continue;
    const bounds = clipBounds(clip, graph, opset);
    if (!bounds || bounds[0] !== 0 || bounds[1] !== 6) continue;
    const mul = index.onlyConsumer(clip.outputs[0]!);
    if (!mul || mul.opType !== 'Mul' || mul.domain !== '' || otherInput(mul, clip.outputs[0]!) !== x) continue;
    const scale = index.onlyConsumer(mul.outputs[0]!);
    if (!scale || scale.domain !== '' || scale.inputs[0] !== mul.outputs[0]) continue;
    const k = scalar(graph.initializers.get(scale.inputs[1]!));
    const divides = (scale.opType === 'Div' && k === 6) || (scale.opType === 'Mul' && k !== undefined && Math.abs(k - 1 / 6) <= 1e-7);
    if (!divides) continue;
    replace.set(add, { name: `${scale.name}/hardswish`, opType: 'HardSwish', domain: '', inputs: [x], outputs: [scale.outputs[0]!], attrs: Attributes.empty() });
    for (const n of [clip, mul, scale]) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
