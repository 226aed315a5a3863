// If, Loop and Scan expansion, a chunk of its own (loaded by loadControlFlowFor for graphs that have
// them): the planner replaces an If by its branch and unrolls a Loop or a Scan (expand-if.ts,
// expand-loop.ts, expand-scan.ts).
import { registerControlFlow, type ControlFlow } from './build-plan.ts';
import { expandIf } from './expand-if.ts';
import { expandLoop } from './expand-loop.ts';
import { expandScan } from './expand-scan.ts';

/** Exported as well as registered: the script tag's loader takes a part's exports as proof it ran. */
export const controlFlow: ControlFlow = { expandIf, unroll: (rn, planner, opsets) => (rn.node.opType === 'Scan' ? expandScan : expandLoop)(rn, planner, opsets) };
registerControlFlow(controlFlow);
