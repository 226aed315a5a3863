// Cold start while a model streams: the pipelines a plan will need are compiled from a plan built
// on the graph's shapes alone (weights stood in for by placeholders), before the weights arrive.
// Compiling is what a session from memory spends most of its time on (docs/decisions.md,
// "cold-start"). A guess only ever costs compile time: the real plan uses a pipeline compiled
// ahead only when it asks for exactly its key (the WGSL and the binding layout), and the first
// plan prepared drops the rest.
import type { ExecutionPlan } from '../../plan/execution-plan.ts';
import type { GpuCaps } from '../../../kernels/webgpu/contract.ts';
import { lowerPlan } from './plan-lowering.ts';
import { readOnlyBindings, type PipelineCache } from './pipeline-cache.ts';

/** Starts compiling every program `plan` lowers to on this device; returns how many were new. */
export function prewarmPipelines(plan: ExecutionPlan, caps: GpuCaps, pipelines: PipelineCache): number {
  const before = pipelines.counts.ahead;
  for (const low of lowerPlan(plan, caps).lowerings) {
    if (low?.kind !== 'programs') continue;
    for (const program of low.programs) pipelines.prewarm(program, pipelines.layoutFor(readOnlyBindings(program)));
  }
  return pipelines.counts.ahead - before;
}
