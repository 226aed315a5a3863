// TreeEnsembleRegressor / TreeEnsembleClassifier (ai.onnx.ml 1 and 3) and TreeEnsemble (ai.onnx.ml 5)
// on random forests against onnxruntime-web. Labels must be equal; scores within rtol 1e-5 + atol 1e-6:
// both sides accumulate in float32 in the same tree order, but exp/log may differ by an ulp between
// V8 and the C library, and the transforms (softmax, logistic, probit) carry that through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { KilnError } from '../../runtime/node.ts';
import { assertMatchesOrt, f32, loadKiln, mlModelBytes, runKiln, type MlModel } from '../helpers/ml-ort.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const TOL = { rtol: 1e-5, atol: 1e-6 };
const MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ'] as const;
const TRANSFORMS = ['NONE', 'SOFTMAX', 'LOGISTIC', 'SOFTMAX_ZERO', 'PROBIT'] as const;
const AGGREGATES = ['SUM', 'AVERAGE', 'MIN', 'MAX'] as const;
// feature values and thresholds drawn partly from a small grid, so EQ / NEQ branches and ties with
// the threshold (LEQ vs LT) are taken both ways
const GRID = [-1, -0.5, 0, 0.25, 0.5, 1];

interface Nodes {
  treeIds: number[]; nodeIds: number[]; features: number[]; modes: string[]; values: number[];
  trueIds: number[]; falseIds: number[]; missing: number[];
  leaves: { tree: number; node: number }[];
}

const gridOrRandom = (rng: Rng): number => Math.fround(rng.uniform() < 0.5 ? rng.pick(GRID) : rng.range(-1.2, 1.2));

/** `trees` random trees (depth 1-5, uneven), node ids in depth-first order from 0, the root first. */
function randomForest(rng: Rng, trees: number, features: number, modes: readonly string[]): Nodes {
  const n: Nodes = { treeIds: [], nodeIds: [], features: [], modes: [], values: [], trueIds: [], falseIds: [], missing: [], leaves: [] };
  for (let t = 0; t < trees; t++) {
    const depth = rng.intRange(1, 6);
    let next = 0;
    const grow = (level: number): number => {
      const id = next++;
      const at = n.treeIds.length;
      n.treeIds.push(t); n.nodeIds.push(id);
      const leaf = level === depth || (level > 0 && rng.uniform() < 0.25);
      n.features.push(leaf ? 0 : rng.int(features));
      n.modes.push(leaf ? 'LEAF' : rng.pick(modes));
      n.values.push(leaf ? 0 : gridOrRandom(rng));
      n.missing.push(rng.int(2));
      n.trueIds.push(0); n.falseIds.push(0);
      if (leaf) {
        n.leaves.push({ tree: t, node: id });
        return id;
      }
      n.trueIds[at] = grow(level + 1);
      n.falseIds[at] = grow(level + 1);
      return id;
    };
    grow(0);
  }
  return n;
}

function nodeAttrs(n: Nodes, missing: boolean, asTensor: boolean): Record<string, WriterAttribute> {
  return {
    nodes_treeids: n.treeIds, nodes_nodeids: n.nodeIds, nodes_featureids: n.features, nodes_modes: n.modes,
    ...(asTensor ? { nodes_values_as_tensor: new Tensor('float64', Float64Array.from(n.values), [n.values.length]) } : { nodes_values: { floats: n.values } }),
    nodes_truenodeids: n.trueIds, nodes_falsenodeids: n.falseIds,
    ...(missing ? { nodes_missing_value_tracks_true: n.missing } : {}),
  };
}

/** rows x features, some values from the grid, some NaN (missing) when `nan`. */
function randomX(rng: Rng, rows: number, features: number, nan: boolean): AnyTensor {
  return f32([rows, features], Array.from({ length: rows * features }, () => (nan && rng.uniform() < 0.15 ? NaN : gridOrRandom(rng))));
}

interface Weights { treeIds: number[]; nodeIds: number[]; ids: number[]; weights: number[] }

/** Leaf weights: `pick(leaf)` gives the target/class ids a leaf votes for. */
function leafWeights(rng: Rng, n: Nodes, pick: () => number[], positive: boolean): Weights {
  const w: Weights = { treeIds: [], nodeIds: [], ids: [], weights: [] };
  for (const leaf of n.leaves) {
    for (const id of pick()) {
      w.treeIds.push(leaf.tree); w.nodeIds.push(leaf.node); w.ids.push(id);
      w.weights.push(Math.fround(positive ? rng.range(0, 1) : rng.range(-2, 2)));
    }
  }
  return w;
}

function someOf(rng: Rng, count: number): number[] {
  const ids = Array.from({ length: count }, (_, i) => i).filter(() => rng.uniform() < 0.6);
  return ids.length > 0 ? ids : [rng.int(count)];
}

test('TreeEnsembleRegressor: random forests, every mode, aggregate and transform, NaN inputs, 1 and several targets', async () => {
  const rng = testRng(import.meta.url, 'regressor');
  let cases = 0;
  for (const aggregate of AGGREGATES) {
    for (const post of TRANSFORMS) {
      for (const targets of [1, 3]) {
        const features = rng.intRange(2, 6);
        const sameMode = rng.uniform() < 0.3;
        const forest = randomForest(rng, rng.intRange(1, 6), features, sameMode ? [rng.pick(MODES)] : MODES);
        const w = leafWeights(rng, forest, () => (targets === 1 ? [0] : someOf(rng, targets)), false);
        const base = rng.uniform() < 0.5 ? Array.from({ length: targets }, () => Math.fround(rng.range(-1, 1))) : [];
        const m: MlModel = {
          op: 'TreeEnsembleRegressor', mlOpset: rng.pick([1, 3]),
          attrs: {
            ...nodeAttrs(forest, rng.uniform() < 0.7, false),
            target_treeids: w.treeIds, target_nodeids: w.nodeIds, target_ids: w.ids, target_weights: { floats: w.weights },
            n_targets: targets, aggregate_function: aggregate, post_transform: post,
            ...(base.length > 0 ? { base_values: { floats: base } } : {}),
          },
          feeds: { X: randomX(rng, rng.intRange(1, 9), features, true) },
          inputs: ['X'],
          outputs: [{ name: 'Y', dtype: 'float32' }],
        };
        await assertMatchesOrt(m, `regressor ${aggregate} ${post} targets ${targets} (seed ${rng.seed})`, TOL, cases === 0 ? ['js', 'wasm'] : ['js']);
        cases++;
      }
    }
  }
  assert.equal(cases, 40);
});

test('TreeEnsembleRegressor: a larger forest (100 trees, 300 rows: onnxruntime takes its batched paths), 1 and 4 targets', async () => {
  const rng = testRng(import.meta.url, 'large');
  for (const targets of [1, 4]) {
    const features = 8;
    const forest = randomForest(rng, 100, features, MODES);
    const w = leafWeights(rng, forest, () => (targets === 1 ? [0] : someOf(rng, targets)), false);
    const m: MlModel = {
      op: 'TreeEnsembleRegressor', mlOpset: 3,
      attrs: {
        ...nodeAttrs(forest, true, false),
        target_treeids: w.treeIds, target_nodeids: w.nodeIds, target_ids: w.ids, target_weights: { floats: w.weights },
        n_targets: targets, aggregate_function: rng.pick(AGGREGATES),
      },
      feeds: { X: randomX(rng, 300, features, true) },
      inputs: ['X'],
      outputs: [{ name: 'Y', dtype: 'float32' }],
    };
    // 100 float32 additions per score: a few ulps of order drift at most
    await assertMatchesOrt(m, `regressor large, targets ${targets} (seed ${rng.seed})`, { rtol: 1e-5, atol: 1e-5 });
  }
});

test('TreeEnsembleRegressor (ml opset 3): a double X with thresholds, weights and base values as double tensors', async () => {
  const rng = testRng(import.meta.url, 'regressor double');
  for (const targets of [1, 2]) {
    const features = 4;
    const forest = randomForest(rng, 4, features, MODES);
    const w = leafWeights(rng, forest, () => (targets === 1 ? [0] : someOf(rng, targets)), false);
    const m: MlModel = {
      op: 'TreeEnsembleRegressor', mlOpset: 3,
      attrs: {
        ...nodeAttrs(forest, true, true),
        target_treeids: w.treeIds, target_nodeids: w.nodeIds, target_ids: w.ids,
        target_weights_as_tensor: new Tensor('float64', Float64Array.from(w.weights, (v) => v + 1e-9), [w.weights.length]),
        base_values_as_tensor: new Tensor('float64', Float64Array.from({ length: targets }, () => rng.range(-1, 1)), [targets]),
        n_targets: targets, aggregate_function: 'SUM',
      },
      feeds: { X: new Tensor('float64', Float64Array.from(randomX(rng, 6, features, true).data as Float32Array, (v) => v + 1e-9), [6, features]) },
      inputs: ['X'],
      outputs: [{ name: 'Y', dtype: 'float32' }],
    };
    await assertMatchesOrt(m, `regressor as_tensor targets ${targets} (seed ${rng.seed})`, TOL);
  }
});

type ClassCase = 'multi' | 'binary-one-column' | 'binary-two-columns';

test('TreeEnsembleClassifier: multi-class and both binary forms, int and string labels, every transform and base value count', async () => {
  const rng = testRng(import.meta.url, 'classifier');
  let cases = 0;
  for (const kind of ['multi', 'binary-one-column', 'binary-two-columns'] as const satisfies readonly ClassCase[]) {
    for (const post of TRANSFORMS) {
      for (const strings of [false, true]) {
        for (const positive of [false, true]) {
          const classes = kind === 'multi' ? rng.intRange(3, 6) : 2;
          // onnxruntime leaves the second score unwritten for PROBIT with one weight column
          if (kind === 'binary-one-column' && post === 'PROBIT') continue;
          // onnxruntime takes 0 or one base value per class (two classes: also 1)
          const nBase = rng.pick(kind === 'multi' ? [0, classes] : [0, 1, 2]);
          const features = rng.intRange(2, 6);
          const forest = randomForest(rng, rng.intRange(1, 6), features, MODES);
          const column = rng.int(2);
          const pick = kind === 'multi' ? () => someOf(rng, classes) : kind === 'binary-one-column' ? () => [column] : () => [0, 1];
          const w = leafWeights(rng, forest, pick, positive);
          const labels = strings ? Array.from({ length: classes }, (_, i) => `class ${String.fromCharCode(97 + i)}`) : Array.from({ length: classes }, (_, i) => 10 + 3 * i);
          const m: MlModel = {
            op: 'TreeEnsembleClassifier', mlOpset: rng.pick([1, 3]),
            attrs: {
              ...nodeAttrs(forest, rng.uniform() < 0.7, false),
              class_treeids: w.treeIds, class_nodeids: w.nodeIds, class_ids: w.ids, class_weights: { floats: w.weights },
              post_transform: post,
              ...(strings ? { classlabels_strings: labels as string[] } : { classlabels_int64s: labels as number[] }),
              ...(nBase > 0 ? { base_values: { floats: Array.from({ length: nBase }, () => Math.fround(rng.range(-0.5, 0.5))) } } : {}),
            },
            feeds: { X: randomX(rng, rng.intRange(1, 9), features, true) },
            inputs: ['X'],
            outputs: [{ name: 'label', dtype: strings ? 'string' : 'int64' }, { name: 'scores', dtype: 'float32' }],
          };
          // the first case (string labels) also on wasm and WebGPU, where the node runs its CPU kernel
          await assertMatchesOrt(m, `classifier ${kind} ${post} ${strings ? 'strings' : 'ints'} ${positive ? 'positive' : 'mixed'} base ${nBase} (seed ${rng.seed})`, TOL, cases === 2 ? ['js', 'wasm', 'webgpu'] : ['js']);
          cases++;
        }
      }
    }
  }
  assert.ok(cases >= 50, `${cases} cases`);
});

test('TreeEnsembleClassifier: int64 and int32 X (onnxruntime registers both)', async () => {
  const rng = testRng(import.meta.url, 'classifier ints');
  for (const dtype of ['int64', 'int32'] as const) {
    const features = 3;
    const forest = randomForest(rng, 3, features, MODES);
    const w = leafWeights(rng, forest, () => someOf(rng, 3), false);
    const values = Array.from({ length: 8 * features }, () => rng.intRange(-2, 3));
    const m: MlModel = {
      op: 'TreeEnsembleClassifier', mlOpset: 3,
      attrs: {
        ...nodeAttrs(forest, false, false),
        class_treeids: w.treeIds, class_nodeids: w.nodeIds, class_ids: w.ids, class_weights: { floats: w.weights },
        classlabels_int64s: [5, 6, 7], post_transform: 'SOFTMAX',
      },
      feeds: { X: dtype === 'int64' ? new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [8, features]) : new Tensor('int32', Int32Array.from(values), [8, features]) },
      inputs: ['X'],
      outputs: [{ name: 'label', dtype: 'int64' }, { name: 'scores', dtype: 'float32' }],
    };
    await assertMatchesOrt(m, `classifier ${dtype} X (seed ${rng.seed})`, TOL);
  }
});

/** The same random forest in TreeEnsemble's (ml opset 5) layout: nodes and leaves by index. */
function v5Attrs(n: Nodes, w: Weights, rng: Rng): Record<string, WriterAttribute> {
  const branches: number[] = [];
  const leafIndex = new Map<string, number>();
  const branchIndex = new Map<string, number>();
  n.treeIds.forEach((t, i) => {
    const key = `${t}/${n.nodeIds[i]}`;
    if (n.modes[i] === 'LEAF') leafIndex.set(key, leafIndex.size);
    else {
      branchIndex.set(key, branches.length);
      branches.push(i);
    }
  });
  const target = (i: number, id: number): [number, number] => {
    const key = `${n.treeIds[i]}/${id}`;
    return leafIndex.has(key) ? [leafIndex.get(key)!, 1] : [branchIndex.get(key)!, 0];
  };
  // one weight per leaf in TreeEnsemble: the leaf's first vote
  const leafTarget: number[] = [];
  const leafWeight: number[] = [];
  for (const leaf of n.leaves) {
    const j = w.treeIds.findIndex((t, k) => t === leaf.tree && w.nodeIds[k] === leaf.node);
    leafTarget.push(w.ids[j]!);
    leafWeight.push(w.weights[j]!);
  }
  const modeNumber = (m: string): number => MODES.indexOf(m as (typeof MODES)[number]);
  const roots = [...new Set(n.treeIds)].map((t) => branchIndex.get(`${t}/0`)!);
  return {
    nodes_featureids: branches.map((i) => n.features[i]!),
    nodes_splits: new Tensor('float32', Float32Array.from(branches.map((i) => n.values[i]!)), [branches.length]),
    nodes_modes: new Tensor('uint8', Uint8Array.from(branches.map((i) => modeNumber(n.modes[i]!))), [branches.length]),
    nodes_truenodeids: branches.map((i) => target(i, n.trueIds[i]!)[0]),
    nodes_trueleafs: branches.map((i) => target(i, n.trueIds[i]!)[1]),
    nodes_falsenodeids: branches.map((i) => target(i, n.falseIds[i]!)[0]),
    nodes_falseleafs: branches.map((i) => target(i, n.falseIds[i]!)[1]),
    nodes_missing_value_tracks_true: branches.map(() => rng.int(2)),
    leaf_targetids: leafTarget,
    leaf_weights: new Tensor('float32', Float32Array.from(leafWeight), [leafWeight.length]),
    tree_roots: roots,
  };
}

test('TreeEnsemble (ml opset 5): random forests, every aggregate and transform, NaN inputs', async () => {
  const rng = testRng(import.meta.url, 'tree ensemble v5');
  for (const aggregate of [0, 1, 2, 3]) {
    for (const post of [0, 1, 2, 3, 4]) {
      const targets = rng.pick([1, 2, 3]);
      const features = rng.intRange(2, 6);
      const forest = randomForest(rng, rng.intRange(1, 6), features, MODES);
      const w = leafWeights(rng, forest, () => [rng.int(targets)], false);
      const m: MlModel = {
        op: 'TreeEnsemble', mlOpset: 5,
        attrs: { ...v5Attrs(forest, w, rng), n_targets: targets, aggregate_function: aggregate, post_transform: post },
        // onnxruntime numbers post_transform by its own enum (1 LOGISTIC, 2 SOFTMAX), the ONNX spec 1 SOFTMAX, 2 LOGISTIC
        ...(post === 1 || post === 2 ? { ortAttrs: { post_transform: 3 - post } } : {}),
        feeds: { X: randomX(rng, rng.intRange(1, 9), features, true) },
        inputs: ['X'],
        outputs: [{ name: 'Y', dtype: 'float32' }],
      };
      await assertMatchesOrt(m, `TreeEnsemble aggregate ${aggregate} post ${post} targets ${targets} (seed ${rng.seed})`, TOL, aggregate === 1 && post === 0 ? ['js', 'wasm'] : ['js']);
    }
  }
});

test('TreeEnsemble (ml opset 5): double X, splits and weights', async () => {
  const rng = testRng(import.meta.url, 'tree ensemble v5 double');
  const features = 4;
  const forest = randomForest(rng, 4, features, MODES);
  const w = leafWeights(rng, forest, () => [rng.int(2)], false);
  const attrs = v5Attrs(forest, w, rng);
  const toDouble = (t: WriterAttribute): AnyTensor => new Tensor('float64', Float64Array.from((t as AnyTensor).data as Float32Array, (v) => v + 1e-10), (t as AnyTensor).dims);
  const x = randomX(rng, 7, features, true);
  const m: MlModel = {
    op: 'TreeEnsemble', mlOpset: 5,
    attrs: { ...attrs, nodes_splits: toDouble(attrs.nodes_splits!), leaf_weights: toDouble(attrs.leaf_weights!), n_targets: 2, aggregate_function: 1 },
    feeds: { X: new Tensor('float64', Float64Array.from(x.data as Float32Array), x.dims) },
    inputs: ['X'],
    outputs: [{ name: 'Y', dtype: 'float64' }],
  };
  await assertMatchesOrt(m, `TreeEnsemble double (seed ${rng.seed})`, { rtol: 1e-12, atol: 1e-12 });
});

test('TreeEnsemble (ml opset 5): set membership branches, NaN tracking true and false', async () => {
  const rng = testRng(import.meta.url, 'tree ensemble member');
  // one tree: node 0 asks "x0 in {0, 0.5, 1}", node 1 (its false side) "x1 in {-1}", then leaves
  const m: MlModel = {
    op: 'TreeEnsemble', mlOpset: 5,
    attrs: {
      nodes_featureids: [0, 1], nodes_splits: f32([2], [0, 0]),
      nodes_modes: new Tensor('uint8', Uint8Array.of(6, 6), [2]),
      nodes_truenodeids: [0, 1], nodes_trueleafs: [1, 1], nodes_falsenodeids: [1, 2], nodes_falseleafs: [0, 1],
      nodes_missing_value_tracks_true: [1, 0],
      membership_values: f32([6], [0, 0.5, 1, NaN, -1, NaN]),
      leaf_targetids: [0, 0, 0], leaf_weights: f32([3], [10, 20, 30]), tree_roots: [0], n_targets: 1,
    },
    feeds: { X: f32([8, 2], Array.from({ length: 16 }, () => rng.pick([0, 0.5, 1, -1, 2, NaN]))) },
    inputs: ['X'],
    outputs: [{ name: 'Y', dtype: 'float32' }],
  };
  const want = await assertMatchesOrt(m, `TreeEnsemble membership (seed ${rng.seed})`, TOL);
  // and by hand, so the case means something even if both sides were wrong alike
  const x = m.feeds.X!.data as Float32Array;
  const y = want.Y!.data as Float32Array;
  for (let i = 0; i < 8; i++) {
    const [a, b] = [x[2 * i]!, x[2 * i + 1]!];
    const hand = [0, 0.5, 1].includes(a) || Number.isNaN(a) ? 10 : b === -1 ? 20 : 30;
    assert.equal(y[i], hand, `row ${i}: x = [${a}, ${b}]`);
  }
});

async function rejects(attrs: Record<string, WriterAttribute>, op: string, mlOpset: number, pattern: RegExp): Promise<void> {
  const bytes = mlModelBytes({
    op, mlOpset, attrs, feeds: { X: f32([2, 3], [0, 1, 2, 3, 4, 5]) }, inputs: ['X'],
    outputs: op === 'TreeEnsembleClassifier' ? [{ name: 'label', dtype: 'int64' }, { name: 'scores', dtype: 'float32' }] : [{ name: 'Y', dtype: 'float32' }],
  });
  await assert.rejects(loadKiln(bytes), (e: unknown) => e instanceof KilnError && (e.code === 'INVALID_MODEL' || e.code === 'INVALID_GRAPH') && pattern.test(e.message), String(pattern));
}

test('a 20000-deep tree (a chain of branches) loads and runs: checks and walks are iterative', async () => {
  const depth = 20000;
  const ids = Array.from({ length: depth + 1 }, (_, i) => i);
  const m: MlModel = {
    op: 'TreeEnsembleRegressor', mlOpset: 3,
    attrs: {
      nodes_treeids: ids.map(() => 0), nodes_nodeids: ids, nodes_featureids: ids.map(() => 0),
      nodes_modes: ids.map((i) => (i === depth ? 'LEAF' : 'BRANCH_GT')), nodes_values: { floats: ids.map((i) => i) },
      // node i asks x > i: true goes one deeper (node i + 1), false straight to the one leaf (node `depth`)
      nodes_truenodeids: ids.map((i) => Math.min(i + 1, depth)), nodes_falsenodeids: ids.map(() => depth),
      target_treeids: [0], target_nodeids: [depth], target_ids: [0], target_weights: { floats: [3] }, n_targets: 1,
    },
    feeds: { X: f32([2, 1], [5, 1e9]) }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'float32' }],
  };
  const got = await runKiln(mlModelBytes(m), m.feeds, 'js');
  assert.deepEqual(Array.from(got.Y!.data as Float32Array), [3, 3]);
});

test('malformed tree ensembles are refused with a typed error at load, never hang', async () => {
  const base = {
    nodes_treeids: [0, 0, 0], nodes_nodeids: [0, 1, 2], nodes_featureids: [0, 0, 0], nodes_modes: ['BRANCH_LEQ', 'LEAF', 'LEAF'],
    nodes_values: { floats: [0.5, 0, 0] }, nodes_truenodeids: [1, 0, 0], nodes_falsenodeids: [2, 0, 0],
    target_treeids: [0, 0], target_nodeids: [1, 2], target_ids: [0, 0], target_weights: { floats: [1, 2] }, n_targets: 1,
  };
  // a sane model runs
  const ok = await runKiln(mlModelBytes({ op: 'TreeEnsembleRegressor', mlOpset: 3, attrs: base, feeds: { X: f32([2, 3], [0, 1, 2, 3, 4, 5]) }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'float32' }] }), { X: f32([2, 3], [0, 1, 2, 3, 4, 5]) }, 'js');
  assert.deepEqual(Array.from(ok.Y!.data as Float32Array), [1, 2]);
  await rejects({ ...base, nodes_values: { floats: [0.5, 0] } }, 'TreeEnsembleRegressor', 3, /nodes_values has 2 entries/);
  await rejects({ ...base, nodes_truenodeids: [7, 0, 0] }, 'TreeEnsembleRegressor', 3, /true branch of node 0 of tree 0 leads to no node/);
  await rejects({ ...base, nodes_modes: ['BRANCH_LEQ', 'BRANCH_LT', 'LEAF'], nodes_truenodeids: [1, 0, 0], nodes_falsenodeids: [2, 2, 0] }, 'TreeEnsembleRegressor', 3, /has a cycle/);
  await rejects({ ...base, nodes_falsenodeids: [0, 0, 0] }, 'TreeEnsembleRegressor', 3, /its own false branch/);
  await rejects({ ...base, nodes_nodeids: [0, 1, 1] }, 'TreeEnsembleRegressor', 3, /defined twice/);
  await rejects({ ...base, target_nodeids: [1, 5] }, 'TreeEnsembleRegressor', 3, /node 5 of tree 0, which does not exist/);
  await rejects({ ...base, nodes_featureids: [3, 0, 0] }, 'TreeEnsembleRegressor', 3, /reads feature 3 but X has 3 features/);
  await rejects({ ...base, nodes_modes: ['BRANCH_SOMETIMES', 'LEAF', 'LEAF'] }, 'TreeEnsembleRegressor', 3, /unknown node mode/);
  await rejects({ ...base, target_ids: [0, 2] }, 'TreeEnsembleRegressor', 3, /target\/class 2, outside \[0, 1\)/);
  const { target_treeids: ct, target_nodeids: cn, target_ids: ci, target_weights: cw, n_targets: _nt, ...nodes } = base;
  await rejects({ ...nodes, class_treeids: ct, class_nodeids: cn, class_ids: ci, class_weights: cw, classlabels_int64s: [1, 2], classlabels_strings: ['a', 'b'] }, 'TreeEnsembleClassifier', 3, /exactly one of classlabels/);
  // TreeEnsemble: a leaf index out of range, and a cycle through node indices
  const v5 = {
    nodes_featureids: [0, 1], nodes_splits: f32([2], [0.5, 0.5]), nodes_modes: new Tensor('uint8', Uint8Array.of(0, 0), [2]),
    nodes_truenodeids: [1, 0], nodes_trueleafs: [0, 1], nodes_falsenodeids: [0, 1], nodes_falseleafs: [1, 1],
    leaf_targetids: [0, 0], leaf_weights: f32([2], [1, 2]), tree_roots: [0], n_targets: 1,
  };
  const okV5 = await runKiln(mlModelBytes({ op: 'TreeEnsemble', mlOpset: 5, attrs: v5, feeds: { X: f32([2, 3], [0, 1, 2, 3, 4, 5]) }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'float32' }] }), { X: f32([2, 3], [0, 1, 2, 3, 4, 5]) }, 'js');
  // row 0: x0 = 0 <= 0.5 -> node 1, x1 = 1 > 0.5 -> leaf 1 (2); row 1: x0 = 3 > 0.5 -> leaf 0 (1)
  assert.deepEqual(Array.from(okV5.Y!.data as Float32Array), [2, 1]);
  await rejects({ ...v5, nodes_falsenodeids: [0, 5] }, 'TreeEnsemble', 5, /false branch of node 1 points at leaf 5/);
  await rejects({ ...v5, nodes_trueleafs: [0, 0], nodes_truenodeids: [1, 0] }, 'TreeEnsemble', 5, /has a cycle/);
  await rejects({ ...v5, tree_roots: [4] }, 'TreeEnsemble', 5, /tree root 4 is not a node/);
});

test('TreeEnsembleClassifier, one weight column under PROBIT (onnxruntime leaves half of it unwritten): [probit(s), 0]', async () => {
  // one split on feature 0 at 0.5: x <= 0.5 reaches leaf 1 (class 0 weight 0.75), else leaf 2 (0.25);
  // with class 0's column alone onnxruntime writes probit(s) and leaves the second score unwritten
  // (with class 1's it writes [probit(0), probit(s)], which the random cases above could compare)
  const m: MlModel = {
    op: 'TreeEnsembleClassifier', mlOpset: 1,
    attrs: {
      nodes_treeids: [0, 0, 0], nodes_nodeids: [0, 1, 2], nodes_featureids: [0, 0, 0], nodes_values: { floats: [0.5, 0, 0] },
      nodes_modes: ['BRANCH_LEQ', 'LEAF', 'LEAF'], nodes_truenodeids: [1, 0, 0], nodes_falsenodeids: [2, 0, 0],
      class_treeids: [0, 0], class_nodeids: [1, 2], class_ids: [0, 0], class_weights: { floats: [0.75, 0.25] },
      classlabels_int64s: [4, 9],
    },
    feeds: { X: f32([2, 1], [0, 1]) }, inputs: ['X'],
    outputs: [{ name: 'label', dtype: 'int64' }, { name: 'scores', dtype: 'float32' }],
  };
  // the same tree without a transform: onnxruntime's answer
  await assertMatchesOrt(m, 'one-split classifier, no transform', { rtol: 0, atol: 0 });
  // probit(0.75) = 0.6745 (normal quantile tables), to the ~2e-3 of onnxruntime's ErfInv approximation
  const mp: MlModel = { ...m, attrs: { ...m.attrs, post_transform: 'PROBIT' }, feeds: { X: f32([1, 1], [0]) } };
  const p = Array.from((await runKiln(mlModelBytes(mp), mp.feeds, 'js')).scores!.data as Float32Array);
  assert.ok(Math.abs(p[0]! - 0.6745) < 2e-3 && p[1] === 0, `PROBIT scores ${p.join(', ')}`);
});
