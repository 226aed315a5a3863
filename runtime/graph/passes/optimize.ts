import type { Graph, Model } from '../ir.ts';
import { opsetOf } from '../ir.ts';
import { topoSort } from '../topo-sort.ts';
import { fail } from '../../../core/errors.ts';
import { foldConvAffine } from './fold-conv-affine.ts';
import { fuseActivations } from './fuse-activation.ts';
import { fuseBias } from './fuse-bias.ts';
import { fuseElementwise } from './fuse-elementwise.ts';
import { liftConstants } from './lift-constants.ts';
import { recognizeGelu } from './recognize-gelu.ts';
import { recognizeHardSwish } from './recognize-hardswish.ts';
import { recognizeLayerNorm } from './recognize-layernorm.ts';
import { removeDeadNodes } from './remove-dead-nodes.ts';
import { removeIdentities } from './remove-identity.ts';

type LowerQdq = (graph: Graph, opset: number, stage: 'before-fusion' | 'after-fusion') => void;
/** The QDQ rewrites: a chunk of its own, loaded for graphs with QuantizeLinear / DequantizeLinear. */
export interface QdqPasses {
  readonly lower: LowerQdq;
  /** wasm: lookup tables into the integer GEMM's epilogue, squeeze-excite on 8-bit data */
  readonly forWasm: (graph: Graph, opset: number) => void;
  /** WebGPU: Q / lookup / DQ around QLinearConv and QLinearMatMul folded into them */
  readonly forWebgpu: (graph: Graph) => void;
}
/** Decomposed attention -> one fused op, per backend: a chunk of its own, loaded for graphs with a Softmax. */
export interface AttentionPasses {
  readonly webgpu: (graph: Graph, opset: number) => void;
  readonly wasm: (graph: Graph, opset: number) => void;
}
let qdqPasses: QdqPasses | undefined;
let attentionPasses: AttentionPasses | undefined;

/** QuantizeLinear / DequantizeLinear in any domain: what every QDQ rewrite starts from. */
const isQdqNode = (n: { readonly opType: string }): boolean => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear';
const isSoftmax = (n: { readonly opType: string; readonly domain?: string }): boolean => n.opType === 'Softmax' && !n.domain;

/** qdq-lowering.ts registers itself here when it loads. */
export function registerQdqPasses(passes: QdqPasses): void {
  qdqPasses = passes;
}

/** attention-passes.ts registers itself here when it loads. */
export function registerAttentionPasses(passes: AttentionPasses): void {
  attentionPasses = passes;
}

/**
 * Loads the passes a graph needs beyond the core download: the QDQ lowering and the attention
 * recognizers are chunks of their own (float CNNs download neither; docs/decisions.md, "bundle").
 * Sessions await this before optimizeGraph, as they await loadOpFamiliesFor.
 */
export async function loadGraphPassesFor(nodes: Iterable<{ readonly opType: string; readonly domain?: string }>): Promise<void> {
  const list = [...nodes];
  await Promise.all([
    !qdqPasses && list.some(isQdqNode) ? import('./qdq-lowering.ts') : undefined,
    !attentionPasses && list.some(isSoftmax) ? import('./attention-passes.ts') : undefined,
  ]);
}

/**
 * Shape-independent rewrites, run once per session on a copy of the graph. Constant folding
 * happens in the planner (runtime/plan/build-plan.ts), where input shapes are known too.
 */
export function optimizeGraph(model: Model): Graph {
  const src = model.graph;
  // Never silently skipped: a caller that did not load the QDQ lowering for a QDQ graph hears of it.
  const lowerQdq = src.nodes.some(isQdqNode) ? (qdqPasses?.lower ?? fail('INTERNAL', 'the QDQ lowering is not loaded: await loadGraphPassesFor(nodes) before optimizeGraph')) : undefined;
  const graph: Graph = { ...src, initializers: new Map(src.initializers), nodes: topoSort(src.nodes, (n) => n, src) };
  removeIdentities(graph);
  liftConstants(graph);
  foldConvAffine(graph);
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
 * self-attention becomes MultiHeadAttention (one flash dispatch), chains of elementwise ops become
 * one generated kernel or a producer's epilogue (one dispatch), and the QuantizeLinear /
 * QLinearLookup / DequantizeLinear around a QLinearConv move into it; on wasm, MatMul/Softmax
 * attention becomes one Attention kernel and 8-bit lookup tables fold into the QLinearConv /
 * QLinearMatMul before them. The CPU backends keep the single
 * ops, which have SIMD kernels in wasm (a js loop over a fused program would be slower there).
 */
export function optimizeForBackend(model: Model, graph: Graph, backend: string): Graph {
  if (backend !== 'webgpu' && backend !== 'wasm') return graph;
  const copy: Graph = { ...graph, initializers: new Map(graph.initializers), nodes: [...graph.nodes] };
  const opset = opsetOf(model, '');
  const attention = graph.nodes.some(isSoftmax) ? (attentionPasses ?? fail('INTERNAL', 'the attention passes are not loaded: await loadGraphPassesFor(nodes) first')) : undefined;
  if (backend === 'webgpu') {
    attention?.webgpu(copy, opset);
    // the QDQ folds first: they drop repeated fake quantizations, which the elementwise fusion
    // would otherwise hide inside a producer's epilogue
    qdqPasses?.forWebgpu(copy);
    fuseElementwise(copy, opset);
  } else {
    // wasm: 8-bit activation tables go inside the integer GEMM's epilogue (its C kernels apply them),
    // and squeeze-excite pooling and scaling read the conv's bytes through a table.
    attention?.wasm(copy, opset);
    qdqPasses?.forWasm(copy, opset);
  }
  // Nothing rewritten: the same graph, so the session does not resolve it again.
  const unchanged = copy.nodes.length === graph.nodes.length && copy.nodes.every((n, i) => n === graph.nodes[i]) && copy.initializers.size === graph.initializers.size;
  return unchanged ? graph : copy;
}
