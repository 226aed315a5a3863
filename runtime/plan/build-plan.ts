import type { AnyTensor } from '../../core/tensor.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, TensorMeta } from '../../kernels/contract.ts';
import { jsKernelFor } from '../../kernels/js/kernels.ts';
import { KilnError, fail } from '../../core/errors.ts';
import type { ExecutionPlan, PlannedStep, PlannedValue } from './execution-plan.ts';
import type { ResolvedGraph, ResolvedNode } from './resolved-graph.ts';
import type { Inlined } from './inline-subgraph.ts';
import type { LoopPlanner } from './expand-loop.ts';

/** If, Loop and Scan expansion: a chunk of its own (control-flow.ts), loaded for graphs that have them. */
export interface ControlFlow {
  expandIf(rn: ResolvedNode, cond: AnyTensor, opsets: ReadonlyMap<string, number>): Inlined;
  /** unrolls a Loop or a Scan */
  unroll(rn: ResolvedNode, planner: LoopPlanner, opsets: ReadonlyMap<string, number>): void;
}
let controlFlow: ControlFlow | undefined;
const isUnrolled = (n: { readonly opType: string; readonly domain?: string }): boolean => (n.opType === 'Loop' || n.opType === 'Scan') && !n.domain;
const isControlFlow = (n: { readonly opType: string; readonly domain: string }): boolean => (n.opType === 'If' && !n.domain) || isUnrolled(n);

/** control-flow.ts registers itself here when it loads. */
export function registerControlFlow(c: ControlFlow): void {
  controlFlow = c;
}

/** Loads If / Loop / Scan expansion when a graph has them (sessions await this before planning). */
export async function loadControlFlowFor(nodes: readonly { readonly opType: string; readonly domain: string }[]): Promise<void> {
  if (!controlFlow && nodes.some(isControlFlow)) await import('./control-flow.ts');
}

const loadedControlFlow = (): ControlFlow => controlFlow ?? fail('INTERNAL', 'If / Loop / Scan expansion is not loaded: await loadControlFlowFor(nodes) before planning');

/** Thrown while planning when a node needs a host value that only exists at run time. */
export class HostValueNeeded extends Error {
  constructor(readonly valueName: string, readonly nodeName: string) {
    super(`node '${nodeName}' needs the value of '${valueName}' on the host`);
  }
}

const metaOf = (t: AnyTensor): TensorMeta => ({ dtype: t.type, dims: t.dims });

/**
 * Resolves every shape for concrete input shapes, folds whatever can be computed on the host
 * (initializer-only subgraphs, Shape of known tensors, values of host-fed inputs), and records
 * tensor lifetimes. The result is static: a backend can allocate and encode it once.
 */
export function buildPlan(
  rg: ResolvedGraph,
  inputMetas: ReadonlyMap<string, TensorMeta>,
  hostFeeds: ReadonlyMap<string, AnyTensor>,
  outputNames: readonly string[] = rg.graph.outputs.map((o) => o.name),
  carriedNames: readonly { readonly input: string; readonly output: string }[] = [],
): ExecutionPlan {
  const values: PlannedValue[] = [];
  const byName = new Map<string, number>();
  const add = (v: Omit<PlannedValue, 'id' | 'lastUse' | 'isOutput'>): number => {
    const id = values.length;
    values.push({ ...v, id, lastUse: -1, isOutput: false });
    byName.set(v.name, id);
    return id;
  };
  const inputIds = new Map<string, number>();
  for (const input of rg.graph.inputs) {
    const fed = hostFeeds.get(input.name);
    const meta = inputMetas.get(input.name);
    if (!meta) fail('INTERNAL', `no shape for input '${input.name}'`);
    const id = fed ? add({ name: input.name, meta, kind: 'const', constValue: fed, producer: -1 }) : add({ name: input.name, meta, kind: 'input', producer: -1 });
    inputIds.set(input.name, id);
  }
  for (const [name, t] of rg.graph.initializers) if (!byName.has(name)) add({ name, meta: metaOf(t), kind: 'const', constValue: t, producer: -1 });

  const steps: PlannedStep[] = [];
  const planNodes = (nodes: readonly ResolvedNode[]): void => {
    for (const rn of nodes) {
      if (rn.op.opType === 'If' && !rn.op.domain) expandIfNode(rn);
      else if (isUnrolled(rn.op)) withNodeContext(rn.node.name, rn.op.opType, () => loadedControlFlow().unroll(rn, loopPlanner, rg.opsets));
      else planNode(rn);
    }
  };
  const hostValue = (name: string, node: string): AnyTensor => {
    const id = byName.get(name);
    if (id === undefined) return fail('INVALID_GRAPH', `node '${node}' reads '${name}', which nothing defines`);
    const v = values[id]!;
    if (v.kind !== 'const') throw new HostValueNeeded(v.name, node);
    return v.constValue!;
  };
  const addConstant = (name: string, t: AnyTensor): void => void add({ name, meta: metaOf(t), kind: 'const', constValue: t, producer: -1 });
  const meta = (name: string, node: string): TensorMeta => values[byName.get(name) ?? fail('INVALID_GRAPH', `node '${node}' reads '${name}', which nothing defines`)]!.meta;
  const loopPlanner: LoopPlanner = { hostValue, meta, addConstant, plan: (nodes) => planNodes(nodes) };
  /** An If is planned as the branch its condition picks, with the branch's initializers as constants. */
  const expandIfNode = (rn: ResolvedNode): void => {
    const cond = hostValue(rn.node.inputs[0] ?? '', rn.node.name);
    const branch = withNodeContext(rn.node.name, 'If', () => loadedControlFlow().expandIf(rn, cond, rg.opsets));
    for (const [name, t] of branch.constants) addConstant(name, t);
    planNodes(branch.nodes);
  };
  const planNode = ({ node, op, opset }: ResolvedNode): void => {
    const inputIdList = node.inputs.map((n) => (n === '' ? undefined : byName.get(n)));
    const metas: MaybeMeta[] = inputIdList.map((id) => (id === undefined ? undefined : values[id]!.meta));
    const host: MaybeTensor[] = new Array(node.inputs.length).fill(undefined);
    for (const slot of op.hostInputs ?? []) {
      const id = inputIdList[slot];
      if (id === undefined) continue;
      const v = values[id]!;
      if (v.kind !== 'const') throw new HostValueNeeded(v.name, node.name);
      host[slot] = v.constValue;
    }
    const ctx: KernelContext = { attrs: node.attrs, opset, node: node.name, host, outputCount: node.outputs.length };
    const outMetas = withNodeContext(node.name, node.opType, () => op.inferOutputs(metas, ctx));
    const foldable = inputIdList.every((id) => id === undefined || values[id]!.kind === 'const');
    const folded = foldable
      ? withNodeContext(node.name, node.opType, () => jsKernelFor(op)(inputIdList.map((id) => (id === undefined ? undefined : values[id]!.constValue)), ctx))
      : op.evalFromMeta?.(metas, ctx);
    const outputIds: number[] = [];
    node.outputs.forEach((name, i) => {
      if (!name) return;
      const meta = outMetas[i];
      if (!meta) fail('INVALID_GRAPH', `node '${node.name}' (${node.opType}) has no output #${i}`);
      if (folded) add({ name, meta, kind: 'const', constValue: folded[i]!, producer: -1 });
      else outputIds.push(add({ name, meta, kind: 'intermediate', producer: steps.length }));
    });
    if (!folded) steps.push({ index: steps.length, node, op, ctx, inputs: inputIdList, outputs: node.outputs.map((n) => (n ? byName.get(n)! : -1)) });
  };
  planNodes(rg.nodes);

  const outputIds = outputNames.map((name) => {
    const id = byName.get(name);
    if (id === undefined) fail('INVALID_GRAPH', `graph output '${name}' is never produced`);
    const v = values[id]!;
    values[id] = { ...v, isOutput: true };
    return id;
  });
  const carried = carriedNames.map(({ input, output }) => ({
    input: inputIds.get(input) ?? fail('INTERNAL', `carried input '${input}' is not a graph input`),
    output: byName.get(output) ?? fail('INVALID_GRAPH', `carried output '${output}' is never produced`),
  }));
  return pruneDeadSteps({ values, steps, inputIds, outputIds, ...(carried.length > 0 ? { carried } : {}) });
}

/** Drops steps whose results nobody reads, then computes each value's last use. Carried outputs live as outputs do (the next run reads them). */
function pruneDeadSteps(plan: ExecutionPlan): ExecutionPlan {
  const ends = new Set<number>([...plan.outputIds, ...(plan.carried ?? []).map((c) => c.output)]);
  const live = new Set<number>(ends);
  const kept: PlannedStep[] = [];
  for (let i = plan.steps.length - 1; i >= 0; i--) {
    const s = plan.steps[i]!;
    if (!s.outputs.some((o) => live.has(o))) continue;
    kept.push(s);
    for (const id of s.inputs) if (id !== undefined) live.add(id);
  }
  kept.reverse();
  const steps = kept.map((s, index) => ({ ...s, index }));
  const values = plan.values.map((v) => ({ ...v, lastUse: ends.has(v.id) ? steps.length : -1 }));
  const producers = new Map<number, number>();
  for (const s of steps) {
    for (const o of s.outputs) if (o >= 0) producers.set(o, s.index);
    for (const id of s.inputs) if (id !== undefined) values[id]!.lastUse = Math.max(values[id]!.lastUse, s.index);
  }
  const fixed = values.map((v) => (v.kind === 'intermediate' ? { ...v, producer: producers.get(v.id) ?? -1 } : v));
  return { values: fixed, steps, inputIds: plan.inputIds, outputIds: plan.outputIds, ...(plan.carried ? { carried: plan.carried } : {}) };
}

function withNodeContext<T>(node: string, opType: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KilnError || e instanceof HostValueNeeded) throw e;
    throw new KilnError('INTERNAL', `${opType} node '${node}' failed while planning: ${(e as Error).message}`);
  }
}
