// A Scan is unrolled while planning, like a Loop (expand-loop.ts): its body is inlined once per
// element of the scanned axis, which the input shapes fix at plan time, so no value has to be known on
// the host. Each iteration reads its slice of every scan input by a Gather with a constant index
// (reversed for scan_input_directions = 1); state variables chain from one iteration to the next; the
// scan outputs are stacked on scan_output_axes (in reverse order for scan_output_directions = 1).
// Opset 8's form (a batch axis 0 and optional sequence_lens before the states) is unrolled per batch
// element and the results stacked on axis 0.
import { Tensor } from '../../core/tensor.ts';
import { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { CAPTURES_ATTR, isGraph } from '../graph/subgraph.ts';
import type { Graph, Node } from '../graph/ir.ts';
import { capturedBindings } from './expand-if.ts';
import { MAX_UNROLLED_ITERATIONS, type LoopPlanner } from './expand-loop.ts';
import { inlineSubgraph, resolveNodes } from './inline-subgraph.ts';
import type { ResolvedNode } from './resolved-graph.ts';
import { stackNodes } from './stack-values.ts';

interface Unroll {
  readonly node: Node;
  readonly body: Graph;
  readonly planner: LoopPlanner;
  readonly opsets: ReadonlyMap<string, number>;
  readonly captured: ReadonlyMap<string, string>;
  readonly prefix: string;
  readonly states: readonly string[];
  readonly scans: readonly string[];
  readonly inAxes: readonly number[];
  readonly inReverse: readonly boolean[];
  readonly outAxes: readonly number[];
  readonly outReverse: readonly boolean[];
  /** where each body output goes: N final states, then K scan outputs ('' : unused) */
  readonly outNames: readonly string[];
}

export function expandScan(rn: ResolvedNode, planner: LoopPlanner, opsets: ReadonlyMap<string, number>): void {
  const { node } = rn;
  const body = node.attrs.raw('body');
  if (!isGraph(body)) return fail('INVALID_GRAPH', `Scan node '${node.name}' has no body graph`);
  const own = node.inputs.slice(0, node.inputs.length - (node.attrs.strings(CAPTURES_ATTR) ?? []).length);
  const captured = capturedBindings(node, own.length);
  const m = node.attrs.int('num_scan_inputs') ?? fail('INVALID_GRAPH', `Scan node '${node.name}' has no num_scan_inputs attribute`);
  const batched = rn.opset < 9;
  const first = batched ? 1 : 0;
  const n = own.length - first - m;
  const k = body.outputs.length - n;
  if (m < 1 || n < 0 || body.inputs.length !== n + m || k < 0 || node.outputs.length > n + k) {
    fail('INVALID_GRAPH', `Scan node '${node.name}': ${n} state variables and ${m} scan inputs do not fit its body's ${body.inputs.length} inputs and ${body.outputs.length} outputs (node outputs: ${node.outputs.length})`);
  }
  const states = own.slice(first, first + n);
  const scans = own.slice(first + n);
  const outNames = Array.from({ length: n + k }, (_, i) => node.outputs[i] ?? '');
  const flags = (name: string, count: number): boolean[] => {
    const v = node.attrs.ints(name) ?? new Array<number>(count).fill(0);
    if (v.length !== count) fail('INVALID_GRAPH', `Scan node '${node.name}': ${name} has ${v.length} entries for ${count} values`);
    return v.map((d) => d !== 0);
  };
  const base = { node, body, planner, opsets, captured };
  if (!batched) {
    const axes = (name: string, count: number): number[] => {
      const v = node.attrs.ints(name) ?? new Array<number>(count).fill(0);
      if (v.length !== count) fail('INVALID_GRAPH', `Scan node '${node.name}': ${name} has ${v.length} entries for ${count} values`);
      return [...v];
    };
    unrollScan({ ...base, prefix: `${node.name}/`, states, scans, inAxes: axes('scan_input_axes', m), inReverse: flags('scan_input_directions', m), outAxes: axes('scan_output_axes', k), outReverse: flags('scan_output_directions', k), outNames });
    return;
  }
  unrollBatched({ ...base, prefix: `${node.name}/`, states, scans, inAxes: new Array<number>(m).fill(0), inReverse: flags('directions', m), outAxes: new Array<number>(k).fill(0), outReverse: new Array<boolean>(k).fill(false), outNames }, own[0] ?? '');
}

/** Opset 8: axis 0 of every state and scan input is a batch axis, the scanned axis is 1; each batch element is scanned on its own. */
function unrollBatched(u: Unroll, sequenceLens: string): void {
  const { node, planner } = u;
  const [batch = 0, length = 0] = planner.meta(u.scans[0]!, node.name).dims;
  if (batch * length > MAX_UNROLLED_ITERATIONS) fail('UNSUPPORTED_FEATURE', `Scan node '${node.name}' runs ${batch} x ${length} iterations, more than ${MAX_UNROLLED_ITERATIONS}: Kiln unrolls scans while planning`);
  if (sequenceLens !== '') {
    const lens = Array.from(planner.hostValue(sequenceLens, node.name).data as ArrayLike<number | bigint>, Number);
    if (lens.some((l) => l !== length)) fail('UNSUPPORTED_FEATURE', `Scan node '${node.name}': sequence_lens [${lens.join(', ')}] shorter than the scanned axis (${length}) are not supported`);
  }
  const perBatch: string[][] = u.outNames.map(() => []);
  for (let b = 0; b < batch; b++) {
    const prefix = `${u.prefix}b${b}/`;
    const index = `${prefix}index`;
    planner.addConstant(index, new Tensor('int64', new BigInt64Array([BigInt(b)]), []));
    const pick = (name: string, what: string): string => {
      const out = `${prefix}${what}`;
      planner.plan(resolveNodes([gatherNode(`${prefix}gather_${what}`, name, index, 0, out)], u.opsets, `Scan node '${node.name}'`));
      return out;
    };
    const outNames = u.outNames.map((name, i) => (name === '' ? '' : `${prefix}out_${i}`));
    unrollScan({ ...u, prefix, states: u.states.map((s, i) => pick(s, `state_${i}`)), scans: u.scans.map((s, j) => pick(s, `scan_${j}`)), outNames });
    outNames.forEach((name, i) => perBatch[i]!.push(name));
  }
  u.outNames.forEach((out, i) => {
    if (out === '') return;
    if (batch === 0) fail('UNSUPPORTED_FEATURE', `Scan node '${node.name}' has an empty batch: the shape of its output '${out}' is unknown`);
    planStacked(u, perBatch[i]!, out, 0, `${u.prefix}batch_${i}/`);
  });
}

function unrollScan(u: Unroll): void {
  const { node, body, planner } = u;
  const n = u.states.length;
  const lengths = u.scans.map((name, j) => {
    const dims = planner.meta(name, node.name).dims;
    const axis = normalizedAxis(u.inAxes[j]!, dims.length, node, `scan input '${name}'`);
    return { axis, length: dims[axis]! };
  });
  const length = lengths[0]!.length;
  if (lengths.some((l) => l.length !== length)) fail('INVALID_GRAPH', `Scan node '${node.name}': its scan inputs have different lengths along their scan axes (${lengths.map((l) => l.length).join(', ')})`);
  if (length > MAX_UNROLLED_ITERATIONS) fail('UNSUPPORTED_FEATURE', `Scan node '${node.name}' runs ${length} iterations, more than ${MAX_UNROLLED_ITERATIONS}: Kiln unrolls scans while planning`);
  let states = u.states;
  const scanned: string[][] = u.outNames.slice(n).map(() => []);
  const where = `Scan node '${node.name}': its body`;
  for (let t = 0; t < length; t++) {
    const prefix = `${u.prefix}${t}`;
    const bound = new Map(u.captured);
    body.inputs.slice(0, n).forEach((v, i) => bound.set(v.name, states[i]!));
    const gathers = u.scans.map((name, j) => {
      const index = `${prefix}:index_${j}`;
      planner.addConstant(index, new Tensor('int64', new BigInt64Array([BigInt(u.inReverse[j] ? length - 1 - t : t)]), []));
      bound.set(body.inputs[n + j]!.name, `${prefix}:element_${j}`);
      return gatherNode(`${prefix}:gather_${j}`, name, index, lengths[j]!.axis, `${prefix}:element_${j}`);
    });
    planner.plan(resolveNodes(gathers, u.opsets, `Scan node '${node.name}'`));
    const iteration = inlineSubgraph(body, { prefix: `${prefix}/`, bound, opsets: u.opsets, where });
    for (const [name, value] of iteration.constants) planner.addConstant(name, value);
    planner.plan(iteration.nodes);
    states = iteration.outputs.slice(0, n);
    iteration.outputs.slice(n).forEach((name, k) => scanned[k]!.push(name));
  }
  const finals = states.flatMap((value, i) => (u.outNames[i] ? [identityNode(`${u.prefix}final_${i}`, value, u.outNames[i])] : []));
  planner.plan(resolveNodes(finals, u.opsets, `Scan node '${node.name}'`));
  scanned.forEach((values, k) => {
    const out = u.outNames[n + k]!;
    if (out === '') return;
    if (length === 0) fail('UNSUPPORTED_FEATURE', `Scan node '${node.name}' scans an empty axis: the element shape of its scan output '${out}' is unknown`);
    const rank = planner.meta(values[0]!, node.name).dims.length + 1;
    const axis = normalizedAxis(u.outAxes[k]!, rank, node, `scan output '${out}'`);
    planStacked(u, u.outReverse[k] ? [...values].reverse() : values, out, axis, `${u.prefix}scan_output_${k}/`);
  });
}

function planStacked(u: Unroll, values: readonly string[], out: string, axis: number, prefix: string): void {
  const stacked = stackNodes(values, out, axis, prefix, u.opsets);
  for (const [name, t] of stacked.constants) u.planner.addConstant(name, t);
  u.planner.plan(resolveNodes(stacked.nodes, u.opsets, `Scan node '${u.node.name}'`));
}

function normalizedAxis(axis: number, rank: number, node: Node, what: string): number {
  if (axis < -rank || axis >= rank) fail('INVALID_GRAPH', `Scan node '${node.name}': axis ${axis} is out of range for its ${what} of rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

function gatherNode(name: string, data: string, index: string, axis: number, out: string): Node {
  return { name, opType: 'Gather', domain: '', inputs: [data, index], outputs: [out], attrs: new Attributes(new Map([['axis', axis]])) };
}

function identityNode(name: string, input: string, out: string): Node {
  return { name, opType: 'Identity', domain: '', inputs: [input], outputs: [out], attrs: Attributes.empty() };
}
