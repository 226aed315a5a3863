// The plan a session will build, derived from the graph's structure and shapes alone while the
// weights still stream (the values it sees are placeholders). It walks the same steps as
// InferenceSession.create and its precompile: graph passes, the backend's passes, a plan for the
// declared input shapes. Passes that read weight values (BatchNorm folding, QDQ lowering, constant
// folding) run on the placeholders: their structure usually matches the real one, their values
// never reach an answer (only pipeline keys are taken from this plan).
import type { TensorMeta } from '../../kernels/contract.ts';
import { loadOpFamiliesFor } from '../../kernels/lazy-families.ts';
import type { BackendName } from '../backends/backend.ts';
import type { Model } from '../graph/ir.ts';
import { loadGraphPassesFor, optimizeForBackend, optimizeGraph } from '../graph/passes/optimize.ts';
import { buildPlan, loadControlFlowFor } from '../plan/build-plan.ts';
import { allNodes } from '../graph/subgraph.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';
import { resolveGraph } from '../plan/resolved-graph.ts';

/** undefined when an input's shape is not fully declared (the session plans at the first run then). */
export async function planFromShapes(model: Model, backend: BackendName, passes: boolean): Promise<ExecutionPlan | undefined> {
  await Promise.all([loadOpFamiliesFor(allNodes(model.graph)), loadGraphPassesFor(model.graph.nodes)]);
  const graph = passes ? optimizeGraph(model) : model.graph;
  await loadOpFamiliesFor(allNodes(graph));
  let resolved = resolveGraph(model, graph);
  if (passes) {
    const forBackend = optimizeForBackend(model, resolved.graph, backend);
    if (forBackend !== resolved.graph) {
      await loadOpFamiliesFor(forBackend.nodes); // ops the backend's passes introduced (MultiHeadAttention)
      resolved = resolveGraph(model, forBackend);
    }
  }
  await loadControlFlowFor(resolved.graph.nodes);
  const metas = new Map<string, TensorMeta>();
  for (const i of resolved.graph.inputs) {
    if (!i.dims || i.dims.some((d) => typeof d !== 'number')) return undefined;
    metas.set(i.name, { dtype: i.dtype, dims: i.dims as number[] });
  }
  return buildPlan(resolved, metas, new Map(), resolved.graph.outputs.map((o) => o.name));
}
