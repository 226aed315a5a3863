import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { isOp, near, otherInput, scalarConstant } from './pattern-match.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

interface Tail {
  readonly output: Node;
  readonly removed: Node[];
}

/**
 * 0.5 * x * c in any association of two Muls: (x * c) * 0.5, (c * 0.5) * x, or (x * 0.5) * c
 * computed apart. `c` is the only operand not yet matched; intermediates feed nothing else.
 */
function halfProduct(graph: Graph, index: GraphIndex, c: string, x: string): Tail | undefined {
  const m1 = index.onlyConsumer(c);
  if (!isOp(m1, 'Mul')) return undefined;
  const o1 = otherInput(m1, c);
  if (o1 === undefined) return undefined;
  const isHalf = (name: string | undefined): boolean => scalarConstant(graph, name) === 0.5;
  if (o1 === x || isHalf(o1)) {
    const m2 = index.onlyConsumer(m1.outputs[0]!);
    if (!isOp(m2, 'Mul')) return undefined;
    const o2 = otherInput(m2, m1.outputs[0]!);
    const ok = o1 === x ? isHalf(o2) : o2 === x;
    return ok ? { output: m2, removed: [m1, m2] } : undefined;
  }
  const h = index.producer.get(o1);
  if (!isOp(h, 'Mul') || !index.hasSingleConsumer(o1)) return undefined;
  const hx = otherInput(h, x);
  return hx !== undefined && isHalf(hx) ? { output: m1, removed: [h, m1] } : undefined;
}

/** 1 + v, where v's only consumer is that Add: the Add's output, or undefined. */
function onePlus(graph: Graph, index: GraphIndex, v: string): Node | undefined {
  const add = index.onlyConsumer(v);
  return isOp(add, 'Add') && scalarConstant(graph, otherInput(add, v)) === 1 ? add : undefined;
}

/** Erf's argument is x / sqrt 2 or x * (1 / sqrt 2): x, or undefined. */
function erfArgument(graph: Graph, index: GraphIndex, erf: Node): { x: string; scaled: Node } | undefined {
  const scaled = index.producer.get(erf.inputs[0]!);
  if (!scaled || !index.hasSingleConsumer(erf.inputs[0]!)) return undefined;
  if (isOp(scaled, 'Div') && near(scalarConstant(graph, scaled.inputs[1]), Math.SQRT2)) return { x: scaled.inputs[0]!, scaled };
  if (!isOp(scaled, 'Mul')) return undefined;
  for (const [x, k] of [[scaled.inputs[0]!, scaled.inputs[1]!], [scaled.inputs[1]!, scaled.inputs[0]!]] as const) {
    if (near(scalarConstant(graph, k), Math.SQRT1_2) && !graph.initializers.has(x)) return { x, scaled };
  }
  return undefined;
}

/** x^3 as Pow(x, 3), Mul(Mul(x, x), x) or Mul(x, Mul(x, x)): x and the nodes, or undefined. */
function cube(graph: Graph, index: GraphIndex, value: string): { x: string; nodes: Node[] } | undefined {
  const p = index.producer.get(value);
  if (!p || !index.hasSingleConsumer(value)) return undefined;
  if (isOp(p, 'Pow') && scalarConstant(graph, p.inputs[1]) === 3) return { x: p.inputs[0]!, nodes: [p] };
  if (!isOp(p, 'Mul')) return undefined;
  for (const [sq, x] of [[p.inputs[0]!, p.inputs[1]!], [p.inputs[1]!, p.inputs[0]!]] as const) {
    const s = index.producer.get(sq);
    if (isOp(s, 'Mul') && s.inputs[0] === x && s.inputs[1] === x && index.hasSingleConsumer(sq)) return { x, nodes: [s, p] };
  }
  return undefined;
}

/** Tanh's argument sqrt(2/pi) * (x + 0.044715 x^3), in either operand order: x and the nodes. */
function tanhArgument(graph: Graph, index: GraphIndex, tanh: Node): { x: string; nodes: Node[] } | undefined {
  const scale = index.producer.get(tanh.inputs[0]!);
  if (!isOp(scale, 'Mul') || !index.hasSingleConsumer(tanh.inputs[0]!)) return undefined;
  const sum = [scale.inputs[0]!, scale.inputs[1]!].find((v, i) => near(scalarConstant(graph, scale.inputs[1 - i]), SQRT_2_OVER_PI));
  const add = sum !== undefined ? index.producer.get(sum) : undefined;
  if (!isOp(add, 'Add') || !index.hasSingleConsumer(sum!)) return undefined;
  for (const [x, term] of [[add.inputs[0]!, add.inputs[1]!], [add.inputs[1]!, add.inputs[0]!]] as const) {
    const mul = index.producer.get(term);
    if (!isOp(mul, 'Mul') || !index.hasSingleConsumer(term)) continue;
    const cubed = [mul.inputs[0]!, mul.inputs[1]!].find((v, i) => near(scalarConstant(graph, mul.inputs[1 - i]), 0.044715));
    const c = cubed !== undefined ? cube(graph, index, cubed) : undefined;
    if (c && c.x === x) return { x, nodes: [scale, add, mul, ...c.nodes] };
  }
  return undefined;
}

/**
 * Decomposed Gelu becomes one Gelu node: 0.5 x (1 + erf(x / sqrt 2)) as approximate 'none',
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as approximate 'tanh' (what FastGelu computes).
 * Constants must match within 1e-6 relative, every intermediate must feed nothing else.
 */
export function recognizeGelu(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const f of graph.nodes) {
    if ((!isOp(f, 'Erf') && !isOp(f, 'Tanh')) || replace.has(f)) continue;
    const arg = f.opType === 'Erf' ? erfArgument(graph, index, f) : tanhArgument(graph, index, f);
    if (!arg) continue;
    const inner = 'scaled' in arg ? [arg.scaled] : arg.nodes;
    const add = onePlus(graph, index, f.outputs[0]!);
    const tail = add ? halfProduct(graph, index, add.outputs[0]!, arg.x) : undefined;
    if (!add || !tail) continue;
    const nodes = [...inner, f, add, ...tail.removed];
    if (nodes.some((n) => replace.has(n))) continue;
    // the Gelu takes the place of the first node of the pattern: x is computed before all of them
    const first = graph.nodes.find((n) => nodes.includes(n))!;
    const attrs = Attributes.empty().with('approximate', f.opType === 'Erf' ? 'none' : 'tanh');
    replace.set(first, { name: `${tail.output.name}/gelu`, opType: 'Gelu', domain: '', inputs: [arg.x], outputs: [tail.output.outputs[0]!], attrs });
    for (const n of nodes) if (n !== first) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
