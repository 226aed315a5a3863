import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';
import { isOp, otherInput, scalarConstant } from './pattern-match.ts';

/** What matchAttentionCore found: the nodes from the scores MatMul to the probabilities' Softmax. */
export interface AttentionCore {
  /** MatMul(q, k'): q and k' as the graph wrote them (k' is k already transposed) */
  readonly qk: Node;
  /** c of a Mul by c, 1 / c of a Div by c; 1 when the scores are not scaled */
  readonly scale: number;
  /** whether a Mul or Div scaled the scores */
  readonly scaled: boolean;
  /** the other operand of an Add after the scaling (a mask or bias), if there is one */
  readonly added?: string;
  /** Softmax, the Add, the Mul/Div and the qk MatMul that are there, each read only by the next */
  readonly nodes: readonly Node[];
}

/**
 * The core that decomposed attention shares in every export, matched back from `pv`, the MatMul of
 * the probabilities by V:
 *
 *   MatMul(Softmax(Add(Mul(MatMul(q, k'), c), added), axis = last), v)
 *
 * with the Mul a Div by c (scores first) or absent, the Add absent, and each intermediate read by
 * nothing else. Both attention recognizers start here and then ask for what their target op needs
 * (recognize-attention.ts: heads reshapes and an initializer bias, for MultiHeadAttention on WebGPU;
 * recognize-matmul-attention.ts: 4-D q/k/v and any mask, for ONNX Attention on wasm).
 */
export function matchAttentionCore(graph: Graph, index: GraphIndex, pv: Node, opset: number): AttentionCore | undefined {
  const single = (v: string): boolean => index.hasSingleConsumer(v);
  const probs = pv.inputs[0]!;
  const softmax = index.producer.get(probs);
  if (!isOp(softmax, 'Softmax') || !single(probs)) return undefined;
  // before opset 13 Softmax's axis defaults to 1 (and flattens from it: -1 and 3 still mean the keys)
  const axis = softmax.attrs.int('axis', opset >= 13 ? -1 : 1);
  if (axis !== -1 && axis !== 3) return undefined;
  const nodes: Node[] = [softmax];
  let x = softmax.inputs[0]!;
  let added: string | undefined;
  const add = index.producer.get(x);
  if (isOp(add, 'Add') && single(x)) {
    // the scores are the operand a (scaled) MatMul produced; the other is what is added
    const scores = add.inputs.find((i) => isScores(index, i));
    added = scores === undefined ? undefined : otherInput(add, scores);
    if (added === undefined) return undefined;
    nodes.push(add);
    x = scores!;
  }
  let scale = 1;
  const scaleNode = index.producer.get(x);
  const scaled = (isOp(scaleNode, 'Mul') || isOp(scaleNode, 'Div')) && single(x);
  if (scaled) {
    const qkName = scaleNode.inputs.find((i) => isOp(index.producer.get(i), 'MatMul'));
    const c = qkName === undefined ? undefined : scalarConstant(graph, otherInput(scaleNode, qkName));
    if (c === undefined || (scaleNode.opType === 'Div' && (scaleNode.inputs[0] !== qkName || c === 0))) return undefined;
    scale = scaleNode.opType === 'Div' ? 1 / c : c;
    nodes.push(scaleNode);
    x = qkName!;
  }
  const qk = index.producer.get(x);
  if (!isOp(qk, 'MatMul') || qk.inputs.length !== 2 || !single(x)) return undefined;
  nodes.push(qk);
  return { qk, scale, scaled, ...(added === undefined ? {} : { added }), nodes };
}

/** A value a (scaled) q x k' MatMul produced: Mul/Div of a MatMul, or the MatMul itself. */
function isScores(index: GraphIndex, v: string): boolean {
  const p = index.producer.get(v);
  if (!p || p.domain !== '') return false;
  if (p.opType === 'MatMul') return true;
  return (p.opType === 'Mul' || p.opType === 'Div') && p.inputs.some((i) => isOp(index.producer.get(i), 'MatMul'));
}
