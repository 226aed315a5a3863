import type { Graph, Model } from '../ir.ts';
import { opsetOf } from '../ir.ts';
import { topoSort } from '../topo-sort.ts';
import { fail } from '../../../core/errors.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { fuseActivations } from './fuse-activation.ts';
import { fuseBias } from './fuse-bias.ts';
import { fuseElementwise } from './fuse-elementwise.ts';
import { liftConstants } from './lift-constants.ts';
import { recognizeAttention } from './recognize-attention.ts';
import { recognizeGelu } from './recognize-gelu.ts';
import { recognizeHardSwish } from './recognize-hardswish.ts';
import { recognizeLayerNorm } from './recognize-layernorm.ts';
import { recognizeMatMulAttention } from './recognize-matmul-attention.ts';
import { removeDeadNodes } from './remove-dead-nodes.ts';
import { removeIdentities } from './remove-identity.ts';

type LowerQdq = (graph: Graph, opset: number, stage: 'before-fusion' | 'after-fusion') => void;
/** The wasm backend's QDQ rewrites (they only match what the QDQ lowering produced). */
type QdqForWasm = (graph: Graph, opset: number) => void;
let qdqLowering: LowerQdq | undefined;
let qdqForWasm: QdqForWasm | undefined;

/** QuantizeLinear / DequantizeLinear in any domain: what every QDQ rewrite starts from. */
const isQdqNode = (n: { readonly opType: string }): boolean => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear';

/** qdq-lowering.ts registers itself here when it loads. */
export function registerQdqLowering(lower: LowerQdq, forWasm: QdqForWasm): void {
  qdqLowering = lower;
  qdqForWasm = forWasm;
}

/**
 * Loads the passes a graph needs beyond the core download: the QDQ lowering is a chunk of its own
 * (float models never download it; docs/decisions.md, "bundle"). Sessions await this before
 * optimizeGraph, as they await loadOpFamiliesFor.
 */
export async function loadGraphPassesFor(nodes: Iterable<{ readonly opType: string }>): Promise<void> {
  if (!qdqLowering && [...nodes].some(isQdqNode)) await import('./qdq-lowering.ts');
}

/**
 * Shape-independent rewrites, run once per session on a copy of the graph. Constant folding
 * happens in the planner (runtime/plan/build-plan.ts), where input shapes are known too.
 */
export function optimizeGraph(model: Model): Graph {
  const src = model.graph;
  // Never silently skipped: a caller that did not load the QDQ lowering for a QDQ graph hears of it.
  const lowerQdq = src.nodes.some(isQdqNode) ? (qdqLowering ?? fail('INTERNAL', 'the QDQ lowering is not loaded: await loadGraphPassesFor(nodes) before optimizeGraph')) : undefined;
  const graph: Graph = { ...src, initializers: new Map(src.initializers), nodes: topoSort(src.nodes, (n) => n, src) };
  removeIdentities(graph);
  liftConstants(graph);
  foldBatchNorm(graph);
  recognizeHardSwish(graph, opsetOf(model, ''));
  recognizeLayerNorm(graph, opsetOf(model, ''));
  recognizeGelu(graph);
  lowerQdq?.(graph, opsetOf(model, ''), 'before-fusion');
  fuseBias(graph);
  fuseActivations(graph, opsetOf(model, ''));
  lowerQdq?.(graph, opsetOf(model, ''), 'after-fusion');
  removeDeadNodes(graph);
  return graph;
}

/**
 * Rewrites that pay on one backend only, applied once the backend is known: on WebGPU, decomposed
 * self-attention becomes MultiHeadAttention (one flash dispatch) and chains of elementwise ops
 * become one generated kernel or a producer's epilogue (one dispatch); on wasm, MatMul/Softmax
 * attention becomes one Attention kernel and 8-bit lookup tables fold into the QLinearConv /
 * QLinearMatMul before them. The CPU backends keep the single
 * ops, which have SIMD kernels in wasm (a js loop over a fused program would be slower there).
 */
export function optimizeForBackend(model: Model, graph: Graph, backend: string): Graph {
  if (backend !== 'webgpu' && backend !== 'wasm') return graph;
  const copy: Graph = { ...graph, initializers: new Map(graph.initializers), nodes: [...graph.nodes] };
  const opset = opsetOf(model, '');
  if (backend === 'webgpu') {
    recognizeAttention(copy, opset);
    fuseElementwise(copy, opset);
  } else {
    // wasm: MatMul/Softmax attention becomes the fused Attention the wasm backend runs in one kernel;
    // 8-bit activation tables go inside the integer GEMM's epilogue (its C kernels apply them), and
    // squeeze-excite pooling and scaling read the conv's bytes through a table. The QDQ ones load
    // with the QDQ lowering: a graph that did not need it has no QLinearLookup or DequantizeLinear.
    recognizeMatMulAttention(copy, opset);
    qdqForWasm?.(copy, opset);
  }
  // Nothing rewritten: the same graph, so the session does not resolve it again.
  const unchanged = copy.nodes.length === graph.nodes.length && copy.nodes.every((n, i) => n === graph.nodes[i]) && copy.initializers.size === graph.initializers.size;
  return unchanged ? graph : copy;
}
