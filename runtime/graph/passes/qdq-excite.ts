import { Attributes } from '../../../core/attributes.ts';
import { KilnError } from '../../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { resolveDefinition } from '../../../kernels/definitions.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { activationDequant, soleQuantize } from './qdq-groups.ts';
import { removeDeadNodes } from './remove-dead-nodes.ts';
import { EXCITATION_ATTR_PREFIX } from '../../../kernels/qlinear-excite/op.ts';

/** A float value that is table[x] for an 8-bit x: a DequantizeLinear's, or a float kiln.QLinearLookup's. */
interface TableSource {
  readonly x: string;
  readonly table: string;
  /** the lookup's dequantized inputs (its wasm kernel rebuilds the table from them) */
  readonly dequantized?: string;
  readonly attrs: Attributes;
}

/**
 * Squeeze-excite on 8-bit activations (kernels/qlinear-excite/op.ts), for the wasm backend
 * (optimize.ts): in a QDQ MobileNet, a quantized conv's output is read as float (a
 * DequantizeLinear, or a float kiln.QLinearLookup: HardSwish) by a GlobalAveragePool -> QuantizeLinear
 * and by a Mul -> QuantizeLinear (the excitation). onnxruntime runs those as float ops (they are
 * not in its QDQ node groups); here each pair becomes one op that reads the conv's bytes through
 * the 256-entry table, so the float tensor is never written and the answers are the separate
 * ops' (their references in the same order; the wasm kernels their float32 steps):
 *
 *   GlobalAveragePool(table[x]) -> QuantizeLinear  =>  kiln.QLinearLookupGlobalAveragePool
 *   Mul(table[x], b) -> QuantizeLinear             =>  kiln.QLinearLookupMul
 *
 * The float value's producer stays while anything else reads it. A Mul of two such values takes as
 * x the one a GlobalAveragePool also reads (the squeezed tensor, the large one).
 */
export function fuseQuantizedExcite(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  const sources = new Map<string, TableSource | undefined>();
  const sourceOf = (value: string): TableSource | undefined => {
    if (!sources.has(value)) sources.set(value, tableSource(graph, index, value, opset));
    return sources.get(value);
  };
  const squeezed = (value: string): boolean => (index.consumers.get(value) ?? []).some((n) => n.opType === 'GlobalAveragePool' && n.domain === '');
  for (const node of graph.nodes) {
    if (node.domain !== '' || node.outputs.length !== 1 || replace.has(node)) continue;
    if (node.opType !== 'GlobalAveragePool' && node.opType !== 'Mul') continue;
    const q = soleQuantize(graph, index, node.outputs[0]!);
    if (!q || replace.has(q)) continue;
    const [ys, yz] = [q.inputs[1]!, q.inputs[2]!];
    if (node.opType === 'GlobalAveragePool') {
      const src = node.inputs[0] ? sourceOf(node.inputs[0]) : undefined;
      if (!src) continue;
      replace.set(node, undefined);
      replace.set(q, { name: q.name, opType: 'QLinearLookupGlobalAveragePool', domain: 'kiln', inputs: [src.x, src.table, ys, yz, ...(src.dequantized ? [src.dequantized] : [])], outputs: [q.outputs[0]!], attrs: src.attrs });
      continue;
    }
    const [a, b] = [node.inputs[0], node.inputs[1]];
    if (!a || !b || a === b) continue;
    const order = squeezed(b) && !squeezed(a) ? [b, a] : [a, b];
    const slot = order.findIndex((v) => sourceOf(v) !== undefined);
    if (slot < 0) continue;
    const [x, other] = [order[slot]!, order[1 - slot]!];
    const src = sourceOf(x)!;
    replace.set(node, undefined);
    // the excitation itself a float lookup read by this Mul alone (HardSigmoid of a quantized
    // value): its bytes and table join the node, so the lookup is no step of its own
    const lookup = index.producer.get(other);
    const folded = lookup && index.hasSingleConsumer(other) ? rowLookup(graph, lookup) : undefined;
    const inputs = folded
      ? [src.x, src.table, folded.x, ys, yz, src.dequantized ?? '', folded.table, ...(folded.dequantized ? [folded.dequantized] : [])]
      : [src.x, src.table, other, ys, yz, ...(src.dequantized ? [src.dequantized] : [])];
    if (folded) replace.set(lookup!, undefined);
    replace.set(q, { name: q.name, opType: 'QLinearLookupMul', domain: 'kiln', inputs, outputs: [q.outputs[0]!], attrs: folded ? withExcitationAttrs(src.attrs, folded.attrs) : src.attrs });
  }
  if (replace.size === 0) return;
  rewriteNodes(graph, replace);
  removeDeadNodes(graph);
}

function tableSource(graph: Graph, index: GraphIndex, value: string, opset: number): TableSource | undefined {
  if (index.graphOutputs.has(value)) return undefined;
  const lookup = index.producer.get(value);
  if (lookup && lookup.opType === 'QLinearLookup' && lookup.domain === 'kiln' && lookup.inputs[0]) {
    const table = graph.initializers.get(lookup.inputs[1] ?? '');
    if (!table || table.type !== 'float32' || table.size !== 256) return undefined;
    return { x: lookup.inputs[0], table: lookup.inputs[1]!, ...(lookup.inputs[2] ? { dequantized: lookup.inputs[2] } : {}), attrs: lookup.attrs };
  }
  const dq = activationDequant(graph, index, value);
  if (!dq) return undefined;
  const name = `${dq.name || value}__kiln_dequantized_table`;
  if (!graph.initializers.has(name)) {
    const table = dequantizedTable(graph, dq, opset);
    if (!table) return undefined;
    graph.initializers.set(name, table);
  }
  return { x: dq.inputs[0]!, table: name, attrs: Attributes.empty() };
}

/** A float kiln.QLinearLookup (its table a 256-entry float32 initializer): the excitation a Mul may fold in. */
function rowLookup(graph: Graph, node: Node): TableSource | undefined {
  if (node.opType !== 'QLinearLookup' || node.domain !== 'kiln' || !node.inputs[0]) return undefined;
  const table = graph.initializers.get(node.inputs[1] ?? '');
  if (!table || table.type !== 'float32' || table.size !== 256) return undefined;
  return { x: node.inputs[0], table: node.inputs[1]!, ...(node.inputs[2] ? { dequantized: node.inputs[2] } : {}), attrs: node.attrs };
}

/** the node's attributes (the feature map's folded activation) and the excitation lookup's, prefixed (kernels/qlinear-excite/op.ts) */
function withExcitationAttrs(attrs: Attributes, excitation: Attributes): Attributes {
  return excitation.names().reduce((a, n) => a.with(EXCITATION_ATTR_PREFIX + n, excitation.raw(n)!), attrs);
}

/** DequantizeLinear's reference on all 256 inputs of its 8-bit type: the float values x can stand for. */
function dequantizedTable(graph: Graph, dq: Node, opset: number): AnyTensor | undefined {
  const [xs, xz] = [graph.initializers.get(dq.inputs[1]!)!, graph.initializers.get(dq.inputs[2]!)!];
  const all = xz.type === 'int8' ? new Tensor('int8', Int8Array.from({ length: 256 }, (_, i) => i - 128), [256]) : new Tensor('uint8', Uint8Array.from({ length: 256 }, (_, i) => i), [256]);
  try {
    const t = resolveDefinition('', 'DequantizeLinear')!.reference([all, xs, xz], { attrs: dq.attrs, opset, node: dq.name, host: [] })[0]!;
    return t.type === 'float32' && t.size === 256 ? t : undefined;
  } catch (e) {
    // an invalid node keeps its own step, which reports the error with its context at plan time
    if (e instanceof KilnError) return undefined;
    throw e;
  }
}
