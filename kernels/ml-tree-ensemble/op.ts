import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import {
  floatsOrTensor, ML_DOMAIN, ML_NUMERIC_INPUTS, postTransformFromInt, postTransformOf, probit, rowsOf, sameLengths, transformRow, logistic,
  type PostTransform,
} from '../ml-common/ml.ts';
import { buildForest, leafOf, Mode, type Forest } from './forest.ts';

/**
 * TreeEnsembleRegressor, TreeEnsembleClassifier (ai.onnx.ml 1 and 3) and TreeEnsemble (ai.onnx.ml 5),
 * with onnxruntime's semantics where the spec leaves room (tree_ensemble_aggregator.h):
 * - a tree's root is the first node of each run of equal nodes_treeids;
 * - scores accumulate in float32, in double for a double X (onnxruntime's ThresholdType);
 * - base_values hold 0 or one value per target (a classifier with 2 classes: 0, 1 or 2), else refused;
 * - one target: base_values[0] is added and only PROBIT applies (the other transforms need two scores);
 * - several targets: a target no leaf reached reads 0 (its base value is dropped);
 * - classifier, 2 classes: the single-weight-column forms (binary_case) write [1 - s, s], [-s, s] or
 *   [logistic(-s), logistic(s)] as onnxruntime does; with votes for both classes the label is
 *   "class 1's score > 0" as the integer 1 / 0 (onnxruntime's positive_label_, docs/decisions.md
 *   "ml-ops"); more classes take the arg max over the classes some leaf or base value scored.
 * TreeEnsemble numbers post_transform as the spec does (1 SOFTMAX, 2 LOGISTIC; onnxruntime swaps them).
 */

type Aggregate = 'SUM' | 'AVERAGE' | 'MIN' | 'MAX';
const AGGREGATES: readonly Aggregate[] = ['AVERAGE', 'SUM', 'MIN', 'MAX']; // TreeEnsemble's numbering
const MODE_NAMES: Readonly<Record<string, number>> = {
  BRANCH_LEQ: Mode.LEQ, BRANCH_LT: Mode.LT, BRANCH_GTE: Mode.GTE, BRANCH_GT: Mode.GT, BRANCH_EQ: Mode.EQ, BRANCH_NEQ: Mode.NEQ, LEAF: Mode.LEAF,
};

interface Ensemble {
  readonly forest: Forest;
  readonly targets: number;
  readonly aggregate: Aggregate;
  readonly post: PostTransform;
  readonly base: readonly number[];
}

interface Classifier extends Ensemble {
  readonly labels: readonly number[] | readonly string[];
  readonly binaryCase: boolean;
  readonly allPositive: boolean;
}

// compiled once per node: the Attributes object is the node's (plan and run see the same one)
const compiled = new WeakMap<Attributes, Ensemble>();

function cached<E extends Ensemble>(ctx: KernelContext, build: () => E): E {
  const hit = compiled.get(ctx.attrs);
  if (hit) return hit as E;
  const e = build();
  compiled.set(ctx.attrs, e);
  return e;
}

/** The ml opset 1/3 node table (nodes_* attributes), with leaf weights from `prefix` ('target' or 'class'). */
function legacyForest(ctx: KernelContext, prefix: 'target' | 'class', targets: number): { forest: Forest; weights: readonly number[] } {
  const a = ctx.attrs;
  const treeIds = a.ints('nodes_treeids', []);
  const nodeIds = a.ints('nodes_nodeids', []);
  const features = a.ints('nodes_featureids', []);
  const modes = a.strings('nodes_modes') ?? [];
  const values = floatsOrTensor(ctx, 'nodes_values');
  const trueIds = a.ints('nodes_truenodeids', []);
  const falseIds = a.ints('nodes_falsenodeids', []);
  const missing = a.ints('nodes_missing_value_tracks_true', []);
  const n = sameLengths(ctx, { nodes_treeids: treeIds, nodes_nodeids: nodeIds, nodes_featureids: features, nodes_modes: modes, nodes_values: values, nodes_truenodeids: trueIds, nodes_falsenodeids: falseIds });
  if (missing.length > n) fail('INVALID_MODEL', `node '${ctx.node}': nodes_missing_value_tracks_true has more entries (${missing.length}) than nodes (${n})`);
  const wTree = a.ints(`${prefix}_treeids`, []);
  const wNode = a.ints(`${prefix}_nodeids`, []);
  const wIds = a.ints(`${prefix}_ids`, []);
  const w = floatsOrTensor(ctx, `${prefix}_weights`);
  sameLengths(ctx, { [`${prefix}_treeids`]: wTree, [`${prefix}_nodeids`]: wNode, [`${prefix}_ids`]: wIds, [`${prefix}_weights`]: w });
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `${treeIds[i]}/${nodeIds[i]}`;
    if (index.has(key)) fail('INVALID_MODEL', `node '${ctx.node}': node ${nodeIds[i]} of tree ${treeIds[i]} is defined twice`);
    index.set(key, i);
  }
  const mode = modes.map((m) => MODE_NAMES[m] ?? fail('INVALID_MODEL', `node '${ctx.node}': unknown node mode '${m}'`));
  const resolve = (i: number, id: number): number => index.get(`${treeIds[i]}/${id}`) ?? -1;
  const roots: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || treeIds[i] !== treeIds[i - 1]) roots.push(i);
  const weightNode = wNode.map((id, j) => index.get(`${wTree[j]}/${id}`) ?? fail('INVALID_MODEL', `node '${ctx.node}': a ${prefix} weight is for node ${id} of tree ${wTree[j]}, which does not exist`));
  const forest = buildForest({
    nodes: n, feature: features, threshold: values, mode, missingTrue: missing,
    trueNext: trueIds.map((id, i) => resolve(i, id)), falseNext: falseIds.map((id, i) => resolve(i, id)),
    roots, weightNode, weightTarget: wIds, weightValue: w, targets,
  }, ctx, (i) => `node ${nodeIds[i]} of tree ${treeIds[i]}`);
  return { forest, weights: w };
}

function aggregateOf(ctx: KernelContext): Aggregate {
  const v = ctx.attrs.string('aggregate_function', 'SUM');
  if (!(AGGREGATES as readonly string[]).includes(v)) fail('INVALID_MODEL', `node '${ctx.node}': unknown aggregate_function '${v}'`);
  return v as Aggregate;
}

/** base_values: 0 or `targets` values (`upTo2`: a two-class classifier may give 1 or 2), as onnxruntime checks. */
function baseValues(ctx: KernelContext, targets: number, upTo2: boolean): readonly number[] {
  const b = floatsOrTensor(ctx, 'base_values');
  if (upTo2 ? b.length > 2 : b.length !== 0 && b.length !== targets) {
    fail('INVALID_MODEL', `node '${ctx.node}': base_values has ${b.length} values, want 0${upTo2 ? ', 1 or 2' : ` or ${targets}`}`);
  }
  return b;
}

function regressorOf(ctx: KernelContext): Ensemble {
  return cached(ctx, () => {
    const targets = ctx.attrs.int('n_targets', 1);
    if (targets < 1) fail('INVALID_MODEL', `node '${ctx.node}': n_targets must be at least 1, got ${targets}`);
    const { forest } = legacyForest(ctx, 'target', targets);
    return { forest, targets, aggregate: aggregateOf(ctx), post: postTransformOf(ctx), base: baseValues(ctx, targets, false) };
  });
}

function classifierOf(ctx: KernelContext): Classifier {
  return cached(ctx, () => {
    const ints = ctx.attrs.ints('classlabels_int64s');
    const strings = ctx.attrs.strings('classlabels_strings');
    if ((ints === undefined || ints.length === 0) === (strings === undefined || strings.length === 0)) {
      fail('INVALID_MODEL', `node '${ctx.node}': exactly one of classlabels_int64s and classlabels_strings must be set`);
    }
    const labels = strings && strings.length > 0 ? strings : ints!;
    if (labels.length < 2) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': a tree classifier with ${labels.length} class is not supported`);
    const { forest, weights } = legacyForest(ctx, 'class', labels.length);
    const classes = new Set(forest.wTarget);
    return {
      forest, targets: labels.length, aggregate: 'SUM', post: postTransformOf(ctx), base: baseValues(ctx, labels.length, labels.length === 2),
      labels, binaryCase: labels.length === 2 && classes.size === 1, allPositive: weights.every((v) => v >= 0),
    };
  });
}

/** TreeEnsemble (ml opset 5): nodes by index, leaves in their own table, modes as a uint8 tensor. */
function ensembleV5Of(ctx: KernelContext): Ensemble {
  return cached(ctx, () => {
    const a = ctx.attrs;
    const need = <T>(v: T | undefined, name: string): T => v ?? fail('INVALID_MODEL', `node '${ctx.node}': TreeEnsemble needs attribute ${name}`);
    const splitsT = need(a.tensor('nodes_splits'), 'nodes_splits');
    const weightsT = need(a.tensor('leaf_weights'), 'leaf_weights');
    const modesT = need(a.tensor('nodes_modes'), 'nodes_modes');
    if (splitsT.type !== weightsT.type) fail('INVALID_MODEL', `node '${ctx.node}': nodes_splits (${splitsT.type}) and leaf_weights (${weightsT.type}) differ in type`);
    const splits = Array.from(toNumbers(splitsT));
    const modes = Array.from(toNumbers(modesT));
    const features = need(a.ints('nodes_featureids'), 'nodes_featureids');
    const trueIds = need(a.ints('nodes_truenodeids'), 'nodes_truenodeids');
    const falseIds = need(a.ints('nodes_falsenodeids'), 'nodes_falsenodeids');
    const trueLeafs = need(a.ints('nodes_trueleafs'), 'nodes_trueleafs');
    const falseLeafs = need(a.ints('nodes_falseleafs'), 'nodes_falseleafs');
    const missing = a.ints('nodes_missing_value_tracks_true');
    const n = sameLengths(ctx, { nodes_featureids: features, nodes_splits: splits, nodes_modes: modes, nodes_truenodeids: trueIds, nodes_falsenodeids: falseIds, nodes_trueleafs: trueLeafs, nodes_falseleafs: falseLeafs, nodes_missing_value_tracks_true: missing });
    const leafTargets = need(a.ints('leaf_targetids'), 'leaf_targetids');
    const leafWeights = Array.from(toNumbers(weightsT));
    const leaves = sameLengths(ctx, { leaf_targetids: leafTargets, leaf_weights: leafWeights });
    const targets = need(a.int('n_targets'), 'n_targets');
    if (targets < 1) fail('INVALID_MODEL', `node '${ctx.node}': n_targets must be at least 1, got ${targets}`);
    const roots = need(a.ints('tree_roots'), 'tree_roots');
    for (const r of roots) if (!Number.isInteger(r) || r < 0 || r >= n) fail('INVALID_MODEL', `node '${ctx.node}': tree root ${r} is not a node`);
    // set membership: the sets of the MEMBER nodes, in node order, NaN-separated in membership_values
    const members = new Map<number, Set<number>>();
    const memberNodes = modes.flatMap((m, i) => (m === Mode.MEMBER ? [i] : []));
    if (memberNodes.length > 0) {
      const mv = Array.from(toNumbers(need(a.tensor('membership_values'), 'membership_values')));
      let k = 0;
      for (const node of memberNodes) {
        const set = new Set<number>();
        while (k < mv.length && !Number.isNaN(mv[k])) set.add(mv[k++]!);
        if (k >= mv.length && node !== memberNodes[memberNodes.length - 1]) fail('INVALID_MODEL', `node '${ctx.node}': membership_values holds fewer sets than there are BRANCH_MEMBER nodes`);
        k++;
        members.set(node, set);
      }
    }
    for (const m of modes) if (!Number.isInteger(m) || m < 0 || m > Mode.MEMBER) fail('INVALID_MODEL', `node '${ctx.node}': unknown node mode ${m}`);
    // leaves become nodes n .. n + leaves - 1
    const link = (i: number, id: number, leaf: number, side: string): number => {
      const limit = leaf === 1 ? leaves : n;
      if (!Number.isInteger(id) || id < 0 || id >= limit) fail('INVALID_MODEL', `node '${ctx.node}': the ${side} branch of node ${i} points at ${leaf === 1 ? 'leaf' : 'node'} ${id}, outside [0, ${limit})`);
      return leaf === 1 ? n + id : id;
    };
    const forest = buildForest({
      nodes: n + leaves,
      feature: [...features, ...new Array<number>(leaves).fill(0)],
      threshold: [...splits, ...new Array<number>(leaves).fill(0)],
      mode: [...modes, ...new Array<number>(leaves).fill(Mode.LEAF)],
      missingTrue: missing,
      trueNext: [...trueIds.map((id, i) => link(i, id, trueLeafs[i]!, 'true')), ...new Array<number>(leaves).fill(0)],
      falseNext: [...falseIds.map((id, i) => link(i, id, falseLeafs[i]!, 'false')), ...new Array<number>(leaves).fill(0)],
      members,
      roots,
      weightNode: leafTargets.map((_, j) => n + j),
      weightTarget: leafTargets,
      weightValue: leafWeights,
      targets,
    }, ctx, (i) => (i < n ? `node ${i}` : `leaf ${i - n}`));
    const aggregate = AGGREGATES[a.int('aggregate_function', 1)] ?? fail('INVALID_MODEL', `node '${ctx.node}': unknown aggregate_function ${a.int('aggregate_function')}`);
    return { forest, targets, aggregate, post: postTransformFromInt(ctx, a.int('post_transform', 0)), base: [] };
  });
}

function checkX(inputs: readonly MaybeMeta[], ctx: KernelContext, forest: Forest, op: string, types: readonly string[]): { n: number; c: number } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, types, ctx, 'X');
  const rows = rowsOf(x, ctx, op);
  if (forest.maxFeature >= rows.c) fail('INVALID_GRAPH', `node '${ctx.node}': a branch reads feature ${forest.maxFeature} but X has ${rows.c} features`);
  return rows;
}

/** The raw (pre-transform) scores of one row: score and has-score per target, as onnxruntime's ScoreValue. */
function accumulate(e: Ensemble, r: (v: number) => number, x: Float64Array, base: number, score: Float64Array, has: Uint8Array): void {
  const { forest } = e;
  score.fill(0);
  has.fill(0);
  const single = e.targets === 1;
  for (const root of forest.roots) {
    const leaf = leafOf(forest, x, base, root);
    const end = forest.wStart[leaf + 1]!;
    if (single) {
      // onnxruntime's one-target path reads the leaf's weight whatever its target id
      let w = 0;
      for (let k = forest.wStart[leaf]!; k < end; k++) w = r(w + forest.wValue[k]!);
      if (e.aggregate === 'SUM' || e.aggregate === 'AVERAGE') score[0] = r(score[0]! + w);
      else {
        if (!has[0] || (e.aggregate === 'MIN' ? w < score[0]! : w > score[0]!)) score[0] = w;
        has[0] = 1;
      }
      continue;
    }
    for (let k = forest.wStart[leaf]!; k < end; k++) {
      const t = forest.wTarget[k]!;
      const w = forest.wValue[k]!;
      if (e.aggregate === 'SUM' || e.aggregate === 'AVERAGE') score[t] = r(score[t]! + w);
      else if (!has[t] || (e.aggregate === 'MIN' ? w < score[t]! : w > score[t]!)) score[t] = w;
      has[t] = 1;
    }
  }
}

/** Regressor / TreeEnsemble outputs [N, targets] (float32, or the weights' type for TreeEnsemble). */
function regress(e: Ensemble, xt: AnyTensor, rows: { n: number; c: number }): Float64Array {
  const r = xt.type === 'float64' ? (v: number): number => v : Math.fround;
  const x = toNumbers(xt);
  const T = e.targets;
  const out = new Float64Array(rows.n * T);
  const score = new Float64Array(T);
  const has = new Uint8Array(T);
  const nTrees = e.forest.roots.length;
  for (let i = 0; i < rows.n; i++) {
    accumulate(e, r, x, i * rows.c, score, has);
    if (T === 1) {
      const origin = e.base.length === 1 ? e.base[0]! : 0;
      let s = score[0]!;
      if (e.aggregate === 'AVERAGE') s = r(r(s / nTrees) + origin);
      else if (e.aggregate === 'SUM') s = r(s + origin);
      else s = has[0] ? r(s + origin) : origin;
      out[i] = e.post === 'PROBIT' ? probit(s) : s;
      continue;
    }
    const useBase = e.base.length === T;
    for (let t = 0; t < T; t++) {
      let s = score[t]!;
      const b = useBase ? e.base[t]! : 0;
      if (e.aggregate === 'AVERAGE') s = r(r(s / nTrees) + b);
      else s = r(s + b);
      score[t] = has[t] ? s : 0; // a target no leaf scored reads 0 in onnxruntime (ScoreValue's float())
    }
    transformRow(score, e.post);
    out.set(score, i * T);
  }
  return out;
}

function classify(e: Classifier, xt: AnyTensor, rows: { n: number; c: number }): { labels: number[]; scores: Float64Array } {
  const r = xt.type === 'float64' ? (v: number): number => v : Math.fround;
  const x = toNumbers(xt);
  const C = e.targets;
  const scores = new Float64Array(rows.n * C);
  const labels: number[] = [];
  const score = new Float64Array(C);
  const has = new Uint8Array(C);
  const b = e.base;
  for (let i = 0; i < rows.n; i++) {
    accumulate(e, r, x, i * rows.c, score, has);
    const val = (k: number): number => (has[k] ? score[k]! : 0);
    if (C > 2) {
      for (let k = 0; k < b.length && k < C; k++) {
        score[k] = has[k] ? r(score[k]! + b[k]!) : b[k]!;
        has[k] = 1;
      }
      let best = -1;
      for (let k = 0; k < C; k++) if (has[k] && (best === -1 || score[k]! > score[best]!)) best = k;
      labels.push(Math.max(best, 0));
      const row = Float64Array.from({ length: C }, (_, k) => val(k));
      transformRow(row, e.post);
      scores.set(row, i * C);
      continue;
    }
    // two classes (tree_ensemble_aggregator.h, TreeAggregatorClassifier::FinalizeScores)
    let extra = -1;
    let kept = 2;
    if (b.length === 2) {
      if (has[1]) {
        score[1] = r(b[1]! + score[0]!); // sic: onnxruntime adds class 0's score, not class 1's
        score[0] = -score[1]!;
      } else {
        score[1] = r(score[1]! + b[1]!);
        score[0] = r(score[0]! + b[0]!);
      }
    } else if (b.length === 1) {
      score[0] = r(score[0]! + b[0]!);
      if (!has[1]) kept = 1;
    } else if (b.length === 0) {
      extra = 3;
      if (!has[1]) kept = 1;
    }
    const pos = kept === 2 && has[1] ? score[1]! : has[0] ? score[0]! : 0;
    let label: number;
    if (e.binaryCase) {
      if (e.allPositive) [label, extra] = pos > 0.5 ? [1, 0] : [0, 1];
      else [label, extra] = pos > 0 ? [1, 2] : [0, 3];
    } else {
      // onnxruntime's positive_label_ / negative_label_: 1 and 0, an index for string labels
      label = pos > 0 ? 1 : 0;
    }
    labels.push(label);
    if (kept === 2) {
      const row = Float64Array.of(val(0), val(1));
      transformRow(row, e.post);
      scores.set(row, i * 2);
    } else {
      const s = val(0);
      let pair: [number, number];
      if (e.post === 'PROBIT') pair = [probit(s), 0];
      else if (e.post === 'LOGISTIC' && extra >= 0) pair = [logistic(-s), logistic(s)];
      else if (extra === 0 || extra === 1) pair = [Math.fround(1 - s), s];
      else if (extra === 2 || extra === 3) pair = [-s, s];
      else pair = [s, 0];
      scores.set(pair, i * 2);
    }
  }
  return { labels, scores };
}

const regressor: OpDefinition = {
  opType: 'TreeEnsembleRegressor',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const e = regressorOf(ctx);
    const { n } = checkX(inputs, ctx, e.forest, 'TreeEnsembleRegressor', ML_NUMERIC_INPUTS);
    return [{ dtype: 'float32', dims: [n, e.targets] }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const e = regressorOf(ctx);
    const xt = inputs[0]!;
    const rows = checkX([{ dtype: xt.type, dims: xt.dims }], ctx, e.forest, 'TreeEnsembleRegressor', ML_NUMERIC_INPUTS);
    return [fromNumbers('float32', [rows.n, e.targets], regress(e, xt, rows))];
  },
};

const classifier: OpDefinition = {
  opType: 'TreeEnsembleClassifier',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const e = classifierOf(ctx);
    const { n } = checkX(inputs, ctx, e.forest, 'TreeEnsembleClassifier', ML_NUMERIC_INPUTS);
    return [{ dtype: typeof e.labels[0] === 'string' ? 'string' : 'int64', dims: [n] }, { dtype: 'float32', dims: [n, e.targets] }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const e = classifierOf(ctx);
    const xt = inputs[0]!;
    const rows = checkX([{ dtype: xt.type, dims: xt.dims }], ctx, e.forest, 'TreeEnsembleClassifier', ML_NUMERIC_INPUTS);
    const { labels, scores } = classify(e, xt, rows);
    const label = typeof e.labels[0] === 'string'
      ? new Tensor('string', labels.map((k) => (e.labels as readonly string[])[k]!), [rows.n])
      : new Tensor('int64', BigInt64Array.from(labels, (k) => BigInt(e.binaryCase || e.targets > 2 ? (e.labels as readonly number[])[k]! : k)), [rows.n]);
    return [label, fromNumbers('float32', [rows.n, e.targets], scores)];
  },
};

const ensemble: OpDefinition = {
  opType: 'TreeEnsemble',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const e = ensembleV5Of(ctx);
    const { n } = checkX(inputs, ctx, e.forest, 'TreeEnsemble', ['float32', 'float64', 'float16']);
    return [{ dtype: requireInput(inputs, 0, ctx).dtype, dims: [n, e.targets] }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const e = ensembleV5Of(ctx);
    const xt = inputs[0]!;
    const rows = checkX([{ dtype: xt.type, dims: xt.dims }], ctx, e.forest, 'TreeEnsemble', ['float32', 'float64', 'float16']);
    return [fromNumbers(xt.type, [rows.n, e.targets], regress(e, xt, rows))];
  },
};

export const definitions: readonly OpDefinition[] = [regressor, classifier, ensemble];
