import type { AnyTensor } from '../../../core/tensor.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import { ORT_REQUANT_ATTR } from '../../../kernels/common/quant.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { activationDequant, soleQuantize } from './qdq-groups.ts';
import { constDequant } from './qdq-weights.ts';

/**
 * The int32 initializer behind a bias DequantizeLinear whose scale is x_scale * w_scale[c] (float32,
 * one per output channel or one for all) with a zero point of 0: what onnxruntime's quantizer writes
 * and what QLinearConv's int32 bias means. onnxruntime takes any int32 bias as that; a bias with
 * another scale is left to the float path so its ONNX meaning holds (docs/decisions.md).
 */
function int32Bias(graph: Graph, index: GraphIndex, value: string, dqx: Node, wScale: AnyTensor): string | undefined {
  const dqb = index.producer.get(value);
  if (!dqb || dqb.opType !== 'DequantizeLinear' || dqb.domain !== '' || !dqb.inputs[0]) return undefined;
  const bq = graph.initializers.get(dqb.inputs[0]);
  const bs = dqb.inputs[1] ? graph.initializers.get(dqb.inputs[1]) : undefined;
  const bz = dqb.inputs[2] ? graph.initializers.get(dqb.inputs[2]) : undefined;
  const xs = graph.initializers.get(dqx.inputs[1]!);
  if (!bq || bq.type !== 'int32' || !bs || bs.type !== 'float32' || !xs || (dqb.inputs[2] && (!bz || toNumbers(bz).some((v) => v !== 0)))) return undefined;
  const cout = bq.size;
  const ws = toNumbers(wScale);
  const scales = toNumbers(bs);
  const x = toNumbers(xs)[0]!;
  if (scales.length !== 1 && scales.length !== cout) return undefined;
  for (let c = 0; c < cout; c++) {
    const want = Math.fround(x * ws[ws.length === 1 ? 0 : c]!);
    const got = scales[scales.length === 1 ? 0 : c]!;
    if (Math.abs(got - want) > 1e-6 * Math.abs(want)) return undefined;
  }
  return dqb.inputs[0];
}

/**
 * The node group onnxruntime's QDQ transformer turns into one integer kernel
 * (qdq_selector_action_transformer.cc, ConvNodeGroupSelector + QDQ::ReplaceWithQLinear):
 *
 *   DequantizeLinear(xq, xs, xz) ─┐
 *   DequantizeLinear(Wq, ws [,wz]) ─ Conv ─ QuantizeLinear(ys, yz) -> yq
 *   DequantizeLinear(Bq int32, bs) ─┘
 *     ->  QLinearConv(xq, xs, xz, Wq, ws, wz, ys, yz, Bq) -> yq
 *
 * with 8-bit activations and weights, scalar activation parameters, per-tensor or per-output-channel
 * weight scales, an int32 bias of scale xs * ws[c] (int32Bias) and a Conv output read by that
 * QuantizeLinear alone.
 * Products then accumulate in int32 and are requantized the way MLAS does (ORT_REQUANT_ATTR), so
 * the integer result is onnxruntime's. The DequantizeLinear / QuantizeLinear nodes are left for
 * dead-node removal (the activation DequantizeLinear may feed other nodes).
 */
export function lowerQdqConvToQLinear(graph: Graph, opset: number): void {
  if (opset < 10) return;
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || conv.outputs.length !== 1 || !conv.inputs[0] || !conv.inputs[1]) continue;
    const dqx = activationDequant(graph, index, conv.inputs[0]);
    const q = soleQuantize(graph, index, conv.outputs[0]!);
    if (!dqx || !q) continue;
    const w = constDequant(graph, index, conv.inputs[1], opset);
    if (!w || w.bits !== 8 || w.q.dims.length < 3 || w.layout.kind === 'blocked' || (w.layout.kind === 'axis' && w.layout.axis !== 0)) continue;
    let bias = '';
    if (conv.inputs[2]) {
      const b = int32Bias(graph, index, conv.inputs[2], dqx, w.scale);
      if (!b) continue;
      bias = b;
    }
    replace.set(conv, {
      ...conv,
      opType: 'QLinearConv',
      inputs: [dqx.inputs[0]!, dqx.inputs[1]!, dqx.inputs[2]!, w.qName, w.scaleName, w.zpName ?? '', q.inputs[1]!, q.inputs[2]!, bias],
      outputs: [q.outputs[0]!],
      attrs: conv.attrs.with(ORT_REQUANT_ATTR, 1),
    });
    replace.set(q, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
