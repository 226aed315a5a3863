// A Loop is unrolled while planning: its body is inlined once per iteration (runtime/plan/
// inline-subgraph.ts), each iteration's carried values feeding the next, and the scan outputs stacked
// along a new first axis. The trip count and every iteration's condition must be known on the host
// (a graph input the plan is keyed by, or a value computed from shapes and constants, as in ONNX's
// function expansions of Range); the body's ops then run on the session's backend like any others.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { TensorMeta } from '../../kernels/contract.ts';
import { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { isGraph } from '../graph/subgraph.ts';
import type { Node } from '../graph/ir.ts';
import { capturedBindings, conditionValue } from './expand-if.ts';
import { inlineSubgraph, resolveNodes } from './inline-subgraph.ts';
import { stackNodes } from './stack-values.ts';
import type { ResolvedNode } from './resolved-graph.ts';

/** A plan grows by the body's nodes per iteration: past this, a loop is refused rather than planned. */
export const MAX_UNROLLED_ITERATIONS = 16_384;

/** What expandLoop needs of the plan being built. */
export interface LoopPlanner {
  /** the value of `name` when it is known at plan time; otherwise throws the planner's "host value needed" for `node` */
  hostValue(name: string, node: string): AnyTensor;
  /** the type and shape of `name` (known for every planned value) */
  meta(name: string, node: string): TensorMeta;
  addConstant(name: string, t: AnyTensor): void;
  plan(nodes: readonly ResolvedNode[]): void;
}

export function expandLoop(rn: ResolvedNode, planner: LoopPlanner, opsets: ReadonlyMap<string, number>): void {
  const { node } = rn;
  const body = node.attrs.raw('body');
  if (!isGraph(body)) return fail('INVALID_GRAPH', `Loop node '${node.name}' has no body graph`);
  const where = `Loop node '${node.name}': its body`;
  const [tripName = '', condName = '', ...rest] = node.inputs;
  const carriedCount = body.inputs.length - 2;
  const scanCount = body.outputs.length - 1 - carriedCount;
  if (carriedCount < 0 || scanCount < 0 || rest.length < carriedCount) {
    fail('INVALID_GRAPH', `${where} has ${body.inputs.length} inputs and ${body.outputs.length} outputs for ${rest.length} loop-carried values`);
  }
  if (node.outputs.length > carriedCount + scanCount) fail('INVALID_GRAPH', `Loop node '${node.name}' has ${node.outputs.length} outputs, its body gives ${carriedCount + scanCount}`);
  const captured = capturedBindings(node, 2 + carriedCount);
  const tripCount = tripName === '' ? Infinity : Number((planner.hostValue(tripName, node.name).data as ArrayLike<number | bigint>)[0]);
  let condition = condName === '' ? undefined : condName;
  let carried = rest.slice(0, carriedCount);
  const scans: string[][] = Array.from({ length: scanCount }, () => []);
  const prefix = `${node.name}/`;
  let i = 0;
  for (; i < tripCount; i++) {
    if (condition !== undefined && !conditionValue(planner.hostValue(condition, node.name), node.name)) break;
    if (i >= MAX_UNROLLED_ITERATIONS) fail('UNSUPPORTED_FEATURE', `Loop node '${node.name}' runs more than ${MAX_UNROLLED_ITERATIONS} iterations: Kiln unrolls loops while planning`);
    const iterationName = `${prefix}${i}/iteration_num`;
    planner.addConstant(iterationName, new Tensor('int64', new BigInt64Array([BigInt(i)]), []));
    let condIn = condition;
    if (condIn === undefined) {
      condIn = `${prefix}${i}/cond_in`;
      planner.addConstant(condIn, new Tensor('bool', new Uint8Array([1]), []));
    }
    const bound = new Map(captured);
    bound.set(body.inputs[0]!.name, iterationName);
    bound.set(body.inputs[1]!.name, condIn);
    body.inputs.slice(2).forEach((v, k) => bound.set(v.name, carried[k]!));
    const iteration = inlineSubgraph(body, { prefix: `${prefix}${i}/`, bound, opsets, where });
    for (const [name, t] of iteration.constants) planner.addConstant(name, t);
    planner.plan(iteration.nodes);
    condition = iteration.outputs[0];
    carried = iteration.outputs.slice(1, 1 + carriedCount);
    iteration.outputs.slice(1 + carriedCount).forEach((name, j) => scans[j]!.push(name));
  }
  if (!Number.isFinite(tripCount) && condition === undefined) fail('INVALID_GRAPH', `Loop node '${node.name}' has neither a trip count nor a condition: it never ends`);
  planner.plan(resolveNodes(tailNodes(node, prefix, carried, scans, i, planner, opsets), opsets, `Loop node '${node.name}'`));
}

/** The final carried values copied to the Loop's outputs, and each scan output's per-iteration values stacked on a new axis 0. */
function tailNodes(node: Node, prefix: string, carried: readonly string[], scans: readonly string[][], iterations: number, planner: LoopPlanner, opsets: ReadonlyMap<string, number>): Node[] {
  const nodes: Node[] = [];
  carried.forEach((value, k) => {
    const out = node.outputs[k];
    if (out) nodes.push({ name: `${prefix}final_${k}`, opType: 'Identity', domain: '', inputs: [value], outputs: [out], attrs: Attributes.empty() });
  });
  scans.forEach((values, j) => {
    const out = node.outputs[carried.length + j];
    if (!out) return;
    if (iterations === 0) fail('UNSUPPORTED_FEATURE', `Loop node '${node.name}' ran no iteration: the element shape of its scan output '${out}' is unknown`);
    const stacked = stackNodes(values, out, 0, `${prefix}scan_${j}/`, opsets);
    for (const [name, t] of stacked.constants) planner.addConstant(name, t);
    nodes.push(...stacked.nodes);
  });
  return nodes;
}
