import type { Graph, Model } from '../ir.ts';
import { opsetOf } from '../ir.ts';
import { topoSort } from '../topo-sort.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { fuseActivations } from './fuse-activation.ts';
import { fuseBias } from './fuse-bias.ts';
import { fuseElementwise } from './fuse-elementwise.ts';
import { fuseQdqWebgpu } from './fuse-qdq-webgpu.ts';
import { liftConstants } from './lift-constants.ts';
import { recognizeGelu } from './recognize-gelu.ts';
import { recognizeHardSwish } from './recognize-hardswish.ts';
import { recognizeLayerNorm } from './recognize-layernorm.ts';
import { lowerQdq } from './qdq-lowering.ts';
import { removeDeadNodes } from './remove-dead-nodes.ts';
import { removeIdentities } from './remove-identity.ts';

/**
 * Shape-independent rewrites, run once per session on a copy of the graph. Constant folding
 * happens in the planner (runtime/plan/build-plan.ts), where input shapes are known too.
 */
export function optimizeGraph(model: Model): Graph {
  const src = model.graph;
  const graph: Graph = { ...src, initializers: new Map(src.initializers), nodes: topoSort(src.nodes, (n) => n, src) };
  removeIdentities(graph);
  liftConstants(graph);
  foldBatchNorm(graph);
  recognizeHardSwish(graph, opsetOf(model, ''));
  recognizeLayerNorm(graph, opsetOf(model, ''));
  recognizeGelu(graph);
  lowerQdq(graph, opsetOf(model, ''), 'before-fusion');
  fuseBias(graph);
  fuseActivations(graph, opsetOf(model, ''));
  lowerQdq(graph, opsetOf(model, ''), 'after-fusion');
  removeDeadNodes(graph);
  return graph;
}

/**
 * Rewrites that pay on one backend only, applied once the backend is known: on WebGPU, chains of
 * elementwise ops become one generated kernel (one dispatch), and the QuantizeLinear /
 * QLinearLookup / DequantizeLinear around a QLinearConv move into it. The CPU backends keep the single
 * ops, which have SIMD kernels in wasm (a js loop over a fused program would be slower there).
 */
export function optimizeForBackend(model: Model, graph: Graph, backend: string): Graph {
  if (backend !== 'webgpu') return graph;
  const copy: Graph = { ...graph, initializers: new Map(graph.initializers), nodes: [...graph.nodes] };
  fuseElementwise(copy, opsetOf(model, ''));
  fuseQdqWebgpu(copy);
  return copy;
}
