import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

const f32 = (t: AnyTensor | undefined): Float32Array | undefined => (t?.type === 'float32' ? (t.data as Float32Array) : undefined);

/**
 * Conv -> BatchNormalization (inference) becomes one Conv with scaled weights and bias:
 * w' = w * s / sqrt(var + eps) per output channel, b' = (b - mean) * s / sqrt(var + eps) + beta.
 */
export function foldBatchNorm(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || replace.has(conv)) continue;
    const bn = index.onlyConsumer(conv.outputs[0]!);
    if (!bn || bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.inputs[0] !== conv.outputs[0]) continue;
    if (bn.outputs.slice(1).some((o) => o && index.consumers.has(o))) continue; // training outputs in use
    const w = graph.initializers.get(conv.inputs[1]!);
    const wData = f32(w);
    const [scale, beta, mean, variance] = bn.inputs.slice(1, 5).map((n) => f32(graph.initializers.get(n)));
    if (!w || !wData || !scale || !beta || !mean || !variance) continue;
    const cout = w.dims[0]!;
    if ([scale, beta, mean, variance].some((a) => a.length !== cout)) continue;
    const biasName = conv.inputs[2];
    const bias = biasName ? f32(graph.initializers.get(biasName)) : new Float32Array(cout);
    if (!bias || bias.length !== cout) continue;
    const eps = bn.attrs.float('epsilon', 1e-5);
    const perChannel = wData.length / cout;
    const newW = new Float32Array(wData.length);
    const newB = new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const k = scale[c]! / Math.sqrt(variance[c]! + eps);
      for (let j = 0; j < perChannel; j++) newW[c * perChannel + j] = wData[c * perChannel + j]! * k;
      newB[c] = (bias[c]! - mean[c]!) * k + beta[c]!;
    }
    const wName = `${conv.name}/bn_folded_weight`;
    const bName = `${conv.name}/bn_folded_bias`;
    graph.initializers.set(wName, new Tensor('float32', newW, w.dims));
    graph.initializers.set(bName, new Tensor('float32', newB, [cout]));
    replace.set(conv, { ...conv, inputs: [conv.inputs[0]!, wName, bName], outputs: [bn.outputs[0]!] });
    replace.set(bn, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
