import { toNumbers } from '../../../kernels/common/values.ts';
import { FUSABLE_ACTIVATIONS } from '../../../kernels/common/activation.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

const PRODUCERS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

/**
 * Conv/ConvTranspose/MatMul/Gemm followed by an activation becomes one node carrying
 * `kiln_activation` (+ `kiln_activation_params`), applied in the producer's epilogue: one dispatch
 * and one tensor fewer. MatMul only fuses with a float weight initializer (int MatMul has no epilogue).
 */
export function fuseActivations(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const producer of graph.nodes) {
    if (!PRODUCERS.has(producer.opType) || producer.domain !== '' || producer.attrs.has('kiln_activation') || replace.has(producer)) continue;
    if (producer.opType === 'MatMul') {
      const w = graph.initializers.get(producer.inputs[1]!);
      if (!w || (w.type !== 'float32' && w.type !== 'float16')) continue;
    }
    const act = index.onlyConsumer(producer.outputs[0]!);
    if (!act || act.domain !== '' || !(FUSABLE_ACTIVATIONS as readonly string[]).includes(act.opType)) continue;
    const params = activationParams(act, graph, opset);
    if (!params) continue;
    const attrs = producer.attrs.with('kiln_activation', act.opType).with('kiln_activation_params', params);
    replace.set(producer, { ...producer, attrs, outputs: [act.outputs[0]!] });
    replace.set(act, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

function activationParams(act: Node, graph: Graph, opset: number): number[] | undefined {
  switch (act.opType) {
    case 'LeakyRelu': return [act.attrs.float('alpha', 0.01)];
    case 'HardSigmoid': return [act.attrs.float('alpha', 0.2), act.attrs.float('beta', 0.5)];
    case 'Clip': {
      if (opset < 11) return [act.attrs.float('min', -3.4028234663852886e38), act.attrs.float('max', 3.4028234663852886e38)];
      const bound = (i: number, fallback: number): number | undefined => {
        const name = act.inputs[i];
        if (!name) return fallback;
        const t = graph.initializers.get(name);
        return t && t.size === 1 && t.type !== 'string' ? toNumbers(t)[0] : undefined; // runtime bounds: not fusable
      };
      const lo = bound(1, -3.4028234663852886e38);
      const hi = bound(2, 3.4028234663852886e38);
      return lo === undefined || hi === undefined ? undefined : [lo, hi];
    }
    default: return [];
  }
}
