import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { matchAttentionCore } from './match-attention-core.ts';
import { isOp } from './pattern-match.ts';

/**
 * Attention written as plain ONNX ops (GPT-2 style exports, Kiln's own GPT export):
 *
 *   MatMul(Softmax(Add(Mul(MatMul(q, Transpose(k, [0, 1, 3, 2])), c), mask), axis = -1), v)
 *
 * (the Mul may be a Div by c or absent, the Add absent) becomes one ONNX Attention (opset 23) node
 * with q, k, v as 4-D [B, N, S|T, H], scale = c (1 / c for Div, 1 without), and the mask as
 * attn_mask. The internal attribute kiln_additive_mask makes the mask broadcast along the keys like
 * the Add did (kernels/attention/onnx-attention-op.ts maskBroadcast): the node then computes what the
 * ops computed, with one pass per query row and no S x T matrix in memory. Every intermediate must
 * feed nothing else. Run for the wasm backend only (optimize.ts optimizeForBackend), where the fused
 * kernel is the faster form; shapes that the ops would broadcast but Attention refuses (K or V with
 * batch 1 against a larger Q batch) fail at load with Attention's INVALID_GRAPH message.
 */
export function recognizeMatMulAttention(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  const single = (v: string): boolean => index.hasSingleConsumer(v);
  for (const pv of graph.nodes) {
    if (!isOp(pv, 'MatMul') || replace.has(pv)) continue;
    const core = matchAttentionCore(graph, index, pv, opset);
    if (!core) continue;
    const { qk, scale, added: mask } = core;
    const kt = index.producer.get(qk.inputs[1]!);
    const perm = kt && isOp(kt, 'Transpose') ? kt.attrs.ints('perm') : undefined;
    if (!kt || !perm || perm.join() !== '0,1,3,2' || !single(qk.inputs[1]!)) continue;
    const nodes = [pv, ...core.nodes, kt];
    if (nodes.some((n) => replace.has(n))) continue;
    const q = qk.inputs[0]!, k = kt.inputs[0]!, v = pv.inputs[1]!;
    // the Attention takes the place of the last node (the second MatMul): every input exists by then
    const attrs = Attributes.empty().with('scale', scale).with('kiln_additive_mask', 1);
    replace.set(pv, { name: `${pv.name}/attention`, opType: 'Attention', domain: '', inputs: mask === undefined ? [q, k, v] : [q, k, v, mask], outputs: [pv.outputs[0]!], attrs });
    for (const n of nodes) if (n !== pv) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
