import { Attributes } from '../../../core/attributes.ts';
import { KilnError } from '../../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import type { KernelContext } from '../../../kernels/contract.ts';
import { resolveDefinition } from '../../../kernels/definitions.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

/**
 * The activations a QDQ model keeps in float between two quantized tensors. onnxruntime runs
 * DequantizeLinear -> op -> QuantizeLinear as three float steps for most of them on the CPU, and as
 * a 256-entry table for Sigmoid and LeakyRelu (QLinearSigmoid, QLinearLeakyRelu); either way each
 * of the 256 inputs maps to one output, which is what the table stores.
 */
const UNARY = new Set(['HardSwish', 'HardSigmoid', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Relu', 'Clip', 'Gelu', 'Elu', 'Selu', 'Softplus', 'Softsign', 'Mish', 'Swish', 'Erf', 'Abs', 'Neg']);
const EIGHT_BIT = new Set(['uint8', 'int8']);
/**
 * Activations whose float32 result is one correctly rounded operation (or none), so the reference
 * and every backend's kernel give the same float: only these get float32 tables. The others
 * (HardSwish, HardSigmoid, Sigmoid, Tanh, Gelu...) differ in the last bit between the reference
 * (float64, rounded once) and the wasm kernels (float32 steps), measured on all 256 inputs
 * (test/graph/qdq-lookup-table.test.ts), so a float table would change the wasm backend's answers.
 * With a QuantizeLinear after them, the same last-bit differences vanish in the rounding to 8 bits
 * on every input tested, so they do get 8-bit tables.
 */
const EXACT_IN_FLOAT32 = new Set(['Relu', 'LeakyRelu', 'Clip', 'Abs', 'Neg']);
/**
 * Float32 tables: the exact ops, and those whose node also carries the 256 dequantized inputs and
 * the activation's attributes, so the wasm backend rebuilds the table with its own kernel
 * (kernels/qlinear-lookup/wasm.ts).
 */
const REBUILT_IN_WASM = new Set(['HardSwish', 'HardSigmoid', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Softsign']);
const FLOAT_TABLES = new Set([...EXACT_IN_FLOAT32, ...REBUILT_IN_WASM]);

/**
 * DequantizeLinear(x, s, zp) -> unary activation -> QuantizeLinear(., s2, zp2), x and y 8-bit with
 * constant per-tensor parameters, becomes one kiln.QLinearLookup (kernels/qlinear-lookup/op.ts) over
 * a table computed here by the three ops' own references on all 256 inputs: the same answers, one
 * byte-to-byte step instead of three steps and two float tensors. Without the QuantizeLinear (the
 * activation's float result feeds a pool or a Mul, as in squeeze-excite blocks) the table holds the
 * 256 float32 results of DequantizeLinear -> op: one step instead of two. DequantizeLinear ->
 * QuantizeLinear with no activation between (a requantization, or what is left once
 * dropReluBeforeQuantize has dropped a Relu whose QuantizeLinear saturates at zero) becomes the same
 * one step, its table the two ops' answers.
 */
export function foldQdqLookupTables(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const q of graph.nodes) {
    if (q.opType !== 'QuantizeLinear' || q.domain !== '' || !q.inputs[0] || !q.outputs[0]) continue;
    const dq = index.producer.get(q.inputs[0]);
    if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '' || !dq.inputs[0] || !index.hasSingleConsumer(q.inputs[0]) || replace.has(dq)) continue;
    const table = lookupTable(graph, dq, undefined, q, opset);
    const tableName = `${q.name}__kiln_lookup_table`;
    if (!table || graph.initializers.has(tableName)) continue;
    graph.initializers.set(tableName, table.table);
    replace.set(dq, undefined);
    replace.set(q, { name: q.name, opType: 'QLinearLookup', domain: 'kiln', inputs: [dq.inputs[0], tableName], outputs: [q.outputs[0]], attrs: Attributes.empty().with('kiln_folded', 'Identity') });
  }
  for (const op of graph.nodes) {
    if (op.domain !== '' || !UNARY.has(op.opType) || op.outputs.length !== 1 || !op.inputs[0]) continue;
    const dq = index.producer.get(op.inputs[0]);
    const q = index.onlyConsumer(op.outputs[0]!);
    if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '' || !dq.inputs[0] || !index.hasSingleConsumer(op.inputs[0])) continue;
    if (replace.has(dq) || op.inputs.slice(1).some((i) => i !== '' && !graph.initializers.has(i))) continue;
    const quantized = q && q.opType === 'QuantizeLinear' && q.domain === '' && q.inputs[0] === op.outputs[0] && !replace.has(q) ? q : undefined;
    // with a QuantizeLinear after: an 8-bit table; else (the activation's result stays float) a float32 one
    if (!quantized && !FLOAT_TABLES.has(op.opType)) continue;
    const last = quantized ?? op;
    const table = lookupTable(graph, dq, op, quantized, opset);
    const tableName = `${last.name}__kiln_lookup_table`;
    if (!table || graph.initializers.has(tableName)) continue;
    graph.initializers.set(tableName, table.table);
    const inputs = [dq.inputs[0]!, tableName];
    let attrs = Attributes.empty().with('kiln_folded', op.opType);
    if (!quantized && REBUILT_IN_WASM.has(op.opType)) {
      graph.initializers.set(`${tableName}_dequantized`, table.dequantized);
      inputs.push(`${tableName}_dequantized`);
      attrs = op.attrs.with('kiln_folded', op.opType);
    }
    replace.set(dq, undefined);
    if (quantized) replace.set(op, undefined);
    replace.set(last, { name: last.name, opType: 'QLinearLookup', domain: 'kiln', inputs, outputs: [last.outputs[0]!], attrs });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

const perTensor = (t: AnyTensor | undefined): boolean => t !== undefined && t.size === 1;

/**
 * The 256 outputs of DequantizeLinear (-> op) (-> QuantizeLinear), or undefined when the pattern is
 * not 8-bit per-tensor with float32 scales.
 */
function lookupTable(graph: Graph, dq: Node, op: Node | undefined, q: Node | undefined, opset: number): { table: AnyTensor; dequantized: AnyTensor } | undefined {
  const init = (name: string | undefined): AnyTensor | undefined => (name ? graph.initializers.get(name) : undefined);
  const [xs, xz] = [init(dq.inputs[1]), init(dq.inputs[2])];
  // the zero points say the 8-bit types (without one, x's type is not known here)
  if (!perTensor(xs) || !perTensor(xz) || !EIGHT_BIT.has(xz!.type) || xs!.type !== 'float32') return undefined;
  const [ys, yz] = q ? [init(q.inputs[1]), init(q.inputs[2])] : [];
  if (q && (!perTensor(ys) || !perTensor(yz) || !EIGHT_BIT.has(yz!.type) || ys!.type !== 'float32')) return undefined;
  const [dqDef, opDef, qDef] = [resolveDefinition('', 'DequantizeLinear'), op && resolveDefinition('', op.opType), resolveDefinition('', 'QuantizeLinear')];
  if (!dqDef || (op && !opDef) || !qDef) return undefined;
  const ctx = (n: Node): KernelContext => ({ attrs: n.attrs, opset, node: n.name, host: [] });
  const all = xz!.type === 'int8' ? new Tensor('int8', Int8Array.from({ length: 256 }, (_, i) => i - 128), [256]) : new Tensor('uint8', Uint8Array.from({ length: 256 }, (_, i) => i), [256]);
  try {
    const x = dqDef.reference([all, xs, xz], ctx(dq))[0]!;
    const y = op && opDef ? opDef.reference([x, ...op.inputs.slice(1).map((i) => init(i))], ctx(op))[0]! : x;
    if (x.type !== 'float32') return undefined;
    if (!q) return y.type === 'float32' && y.size === 256 ? { table: y, dequantized: x } : undefined;
    const t = qDef.reference([y, ys, yz], ctx(q))[0]!;
    return EIGHT_BIT.has(t.type) && t.size === 256 ? { table: t, dequantized: x } : undefined;
  } catch (e) {
    // an invalid node keeps its own steps, which report the error with its context at plan time
    if (e instanceof KilnError) return undefined;
    throw e;
  }
}
