import { fail } from '../../core/errors.ts';
import type { OpDefinition } from '../contract.ts';

/**
 * If runs one of two subgraphs. Kiln does not run it as a kernel: the planner replaces the node by
 * the nodes of the branch its condition picks (runtime/plan/expand-if.ts), so the branch's ops run
 * on the session's backend with its own kernels, fused and planned like the rest of the graph. The
 * condition is therefore a host input: a graph input the plan is keyed by (Optimum's merged
 * decoders feed `use_cache_branch` so), or a value computed from shapes and constants. These two
 * functions only run if something bypasses the planner.
 */
export const definitions: readonly OpDefinition[] = [
  {
    opType: 'If',
    hostInputs: [0],
    inferOutputs: (_inputs, ctx) => fail('INTERNAL', `If node '${ctx.node}' should have been replaced by its branch while planning`),
    reference: (_inputs, ctx) => fail('INTERNAL', `If node '${ctx.node}' should have been replaced by its branch while planning`),
  },
];
