// The plan a session will build, derived from the graph's structure and shapes alone while the
// weights still stream (the values it sees are placeholders). It walks the same steps as
// InferenceSession.create and its precompile: graph passes, the backend's passes, a plan for the
// declared input shapes. Passes that read weight values (BatchNorm folding, QDQ lowering, constant
// folding) run on the placeholders: their structure usually matches the real one, their values
// never reach an answer (only pipeline keys are taken from this plan).
import type { TensorMeta } from '../../kernels/contract.ts';
import { loadOpFamiliesFor } from '../../kernels/lazy-families.ts';
import type { BackendName } from '../backends/backend.ts';
import type { Model, ValueInfo } from '../graph/ir.ts';
import { loadGraphPassesFor, optimizeForBackend, optimizeGraph } from '../graph/passes/optimize.ts';
import { buildPlan, loadControlFlowFor } from '../plan/build-plan.ts';
import { allNodes } from '../graph/subgraph.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';
import { resolveGraph } from '../plan/resolved-graph.ts';

/**
 * The input shapes to plan with before any feed: the declared ones, a symbolic leading dim (the batch
 * axis exporters leave open) guessed as 1 when no other dim is symbolic (`guessed`). Undefined when
 * another dim is symbolic or a shape is not declared: the session plans at the first run. A wrong
 * guess costs only compile time: the real plan takes the pipelines whose WGSL it shares (shapes are
 * uniforms, so most of them) and drops the rest (backends/webgpu/pipeline-prewarm.ts).
 */
export function plannableInputs(inputs: readonly ValueInfo[]): { metas: Map<string, TensorMeta>; guessed: boolean } | undefined {
  const metas = new Map<string, TensorMeta>();
  let guessed = false;
  for (const i of inputs) {
    if (!i.dims || i.dims.some((d, k) => k > 0 && typeof d !== 'number')) return undefined;
    guessed ||= i.dims.length > 0 && typeof i.dims[0] !== 'number';
    metas.set(i.name, { dtype: i.dtype, dims: i.dims.map((d) => (typeof d === 'number' ? d : 1)) });
  }
  return { metas, guessed };
}

/** undefined when an input's shape cannot be planned ahead (plannableInputs): the session plans at the first run then. */
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
  const inputs = plannableInputs(resolved.graph.inputs);
  return inputs && buildPlan(resolved, inputs.metas, new Map(), resolved.graph.outputs.map((o) => o.name));
}
