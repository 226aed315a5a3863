import { fail } from '../../core/errors.ts';
import type { OpDefinition } from '../contract.ts';

/**
 * If runs one of two subgraphs; Loop runs its body while a trip count and a condition allow. Kiln does not run it as a kernel: the planner replaces the node by
 * the nodes of the branch its condition picks (runtime/plan/expand-if.ts), so the branch's ops run
 * on the session's backend with its own kernels, fused and planned like the rest of the graph. The
 * condition is therefore a host input: a graph input the plan is keyed by (Optimum's merged
 * decoders feed `use_cache_branch` so), or a value computed from shapes and constants. A Loop is
 * unrolled the same way (runtime/plan/expand-loop.ts), so its trip count and each iteration's
 * condition must be known on the host. Scan is unrolled over its scanned axis, whose length the
 * input shapes give (runtime/plan/expand-scan.ts). These functions only run if something bypasses the planner.
 */
export const definitions: readonly OpDefinition[] = [
  {
    opType: 'If',
    hostInputs: [0],
    inferOutputs: (_inputs, ctx) => fail('INTERNAL', `If node '${ctx.node}' should have been replaced by its branch while planning`),
    reference: (_inputs, ctx) => fail('INTERNAL', `If node '${ctx.node}' should have been replaced by its branch while planning`),
  },
  {
    opType: 'Loop',
    hostInputs: [0, 1],
    inferOutputs: (_inputs, ctx) => fail('INTERNAL', `Loop node '${ctx.node}' should have been unrolled while planning`),
    reference: (_inputs, ctx) => fail('INTERNAL', `Loop node '${ctx.node}' should have been unrolled while planning`),
  },
  {
    opType: 'Scan',
    inferOutputs: (_inputs, ctx) => fail('INTERNAL', `Scan node '${ctx.node}' should have been unrolled while planning`),
    reference: (_inputs, ctx) => fail('INTERNAL', `Scan node '${ctx.node}' should have been unrolled while planning`),
  },
];
