// A tree ensemble compiled once per node (TreeEnsembleRegressor / Classifier, ml opset 1 and 3, and
// TreeEnsemble, ml opset 5, all compile to this), checked up front: every child exists in its own
// tree, no node points at itself, no tree has a cycle (so evaluation always reaches a leaf), every
// weight names a node and a target in range. Evaluation follows onnxruntime's
// tree_ensemble_common.h / tree_ensemble_aggregator.h, quirks included (docs/decisions.md, "ml-ops").
import { fail } from '../../core/errors.ts';
import type { KernelContext } from '../contract.ts';

/** Branch rules, in TreeEnsemble's (ml opset 5) numbering; LEAF is ours. */
export const Mode = { LEQ: 0, LT: 1, GTE: 2, GT: 3, EQ: 4, NEQ: 5, MEMBER: 6, LEAF: 7 } as const;

export interface Forest {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly mode: Uint8Array;
  readonly missingTrue: Uint8Array;
  readonly trueNext: Int32Array;
  readonly falseNext: Int32Array;
  /** the set of a MEMBER node */
  readonly members: ReadonlyMap<number, ReadonlySet<number>>;
  /** node i's weights are wTarget/wValue[wStart[i] .. wStart[i + 1]) */
  readonly wStart: Int32Array;
  readonly wTarget: Int32Array;
  readonly wValue: Float64Array;
  readonly roots: Int32Array;
  /** the largest feature index a branch reads (-1 when none) */
  readonly maxFeature: number;
}

export interface ForestSpec {
  readonly nodes: number;
  readonly feature: ArrayLike<number>;
  readonly threshold: ArrayLike<number>;
  readonly mode: ArrayLike<number>;
  readonly missingTrue?: ArrayLike<number>;
  /** node indices (already resolved from ids); ignored for leaves */
  readonly trueNext: ArrayLike<number>;
  readonly falseNext: ArrayLike<number>;
  readonly members?: ReadonlyMap<number, ReadonlySet<number>>;
  readonly roots: ArrayLike<number>;
  /** (node index, target, value) triples */
  readonly weightNode: ArrayLike<number>;
  readonly weightTarget: ArrayLike<number>;
  readonly weightValue: ArrayLike<number>;
  readonly targets: number;
}

/** Builds a Forest from node indices, checking every link; `what(i)` names node i in errors. */
export function buildForest(spec: ForestSpec, ctx: KernelContext, what: (i: number) => string): Forest {
  const n = spec.nodes;
  const bad = (msg: string): never => fail('INVALID_MODEL', `node '${ctx.node}': ${msg}`);
  const mode = Uint8Array.from(spec.mode);
  const trueNext = new Int32Array(n);
  const falseNext = new Int32Array(n);
  let maxFeature = -1;
  for (let i = 0; i < n; i++) {
    if (mode[i] === Mode.LEAF) continue;
    const fi = spec.feature[i]!;
    if (!Number.isInteger(fi) || fi < 0) bad(`${what(i)} reads feature ${fi}`);
    maxFeature = Math.max(maxFeature, fi);
    for (const [next, out, side] of [[spec.trueNext[i]!, trueNext, 'true'], [spec.falseNext[i]!, falseNext, 'false']] as const) {
      if (!Number.isInteger(next) || next < 0 || next >= n) bad(`the ${side} branch of ${what(i)} leads to no node of its tree`);
      if (next === i) bad(`${what(i)} is its own ${side} branch`);
      out[i] = next;
    }
    if (mode[i] === Mode.MEMBER && !spec.members?.has(i)) bad(`${what(i)} is a set-membership branch without a set`);
  }
  const roots = Int32Array.from(spec.roots);
  for (const r of roots) if (r < 0 || r >= n) bad(`a tree root (${r}) is not a node`);
  // a cycle would make evaluation loop forever: depth-first colouring, iterative (trees may be deep)
  const colour = new Uint8Array(n);
  for (const r of roots) {
    if (colour[r] !== 0) continue;
    const stack: number[] = [r];
    const childDone: number[] = [0];
    colour[r] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const k = childDone[childDone.length - 1]!;
      if (mode[top] === Mode.LEAF || k === 2) {
        colour[top] = 2;
        stack.pop();
        childDone.pop();
        continue;
      }
      childDone[childDone.length - 1] = k + 1;
      const child = k === 0 ? trueNext[top]! : falseNext[top]!;
      if (colour[child] === 1) bad(`the tree holding ${what(top)} has a cycle`);
      if (colour[child] === 0) {
        colour[child] = 1;
        stack.push(child);
        childDone.push(0);
      }
    }
  }
  const count = new Int32Array(n + 1);
  const m = spec.weightNode.length;
  for (let j = 0; j < m; j++) {
    const node = spec.weightNode[j]!;
    const t = spec.weightTarget[j]!;
    if (!Number.isInteger(t) || t < 0 || t >= spec.targets) bad(`a leaf weight is for target/class ${t}, outside [0, ${spec.targets})`);
    count[node + 1]!++;
  }
  for (let i = 0; i < n; i++) count[i + 1]! += count[i]!;
  const wStart = Int32Array.from(count);
  const fill = Int32Array.from(count);
  const wTarget = new Int32Array(m);
  const wValue = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const at = fill[spec.weightNode[j]!]!++;
    wTarget[at] = spec.weightTarget[j]!;
    wValue[at] = spec.weightValue[j]!;
  }
  return {
    feature: Int32Array.from(spec.feature),
    threshold: Float64Array.from(spec.threshold),
    mode,
    missingTrue: Uint8Array.from({ length: n }, (_, i) => (spec.missingTrue && i < spec.missingTrue.length && spec.missingTrue[i] === 1 ? 1 : 0)),
    trueNext,
    falseNext,
    members: spec.members ?? new Map(),
    wStart,
    wTarget,
    wValue,
    roots,
    maxFeature,
  };
}

/** The leaf row `x[base..]` reaches from `root`; NaN goes the true way where missing values track true. */
export function leafOf(forest: Forest, x: Float64Array, base: number, root: number): number {
  const { feature, threshold, mode, missingTrue, trueNext, falseNext } = forest;
  let i = root;
  for (;;) {
    const m = mode[i]!;
    if (m === Mode.LEAF) return i;
    const v = x[base + feature[i]!]!;
    const t = threshold[i]!;
    let go: boolean;
    switch (m) {
      case Mode.LEQ: go = v <= t; break;
      case Mode.LT: go = v < t; break;
      case Mode.GTE: go = v >= t; break;
      case Mode.GT: go = v > t; break;
      case Mode.EQ: go = v === t; break;
      case Mode.NEQ: go = v !== t; break;
      default: go = forest.members.get(i)!.has(v);
    }
    if (!go && missingTrue[i] === 1 && Number.isNaN(v)) go = true;
    i = go ? trueNext[i]! : falseNext[i]!;
  }
}
