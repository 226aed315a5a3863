// LinearRegressor and LinearClassifier (ai.onnx.ml 1) on random coefficients against onnxruntime-web.
// Labels must be equal; scores within rtol 1e-5 + atol 1e-5: the dot products are float32 on both
// sides but onnxruntime's GEMM may fuse multiply-adds and order the sum differently, and its
// LOGISTIC is MLAS's polynomial rather than exp (a few ulps).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { KilnError } from '../../runtime/node.ts';
import { assertMatchesOrt, f32, loadKiln, mlModelBytes, runKiln, type MlModel } from '../helpers/ml-ort.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const TOL = { rtol: 1e-5, atol: 1e-5 };
const TRANSFORMS = ['NONE', 'SOFTMAX', 'LOGISTIC', 'SOFTMAX_ZERO', 'PROBIT'] as const;

const coefficients = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => Math.fround(rng.range(-1, 1)));
const randomX = (rng: Rng, rows: number, c: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from({ length: rows * c }, () => rng.range(-2, 2)), [rows, c]);

test('LinearRegressor: 1 and several targets, with and without intercepts, every transform, float / double / int inputs', async () => {
  const rng = testRng(import.meta.url, 'regressor');
  let first = true;
  for (const post of TRANSFORMS) {
    for (const targets of [1, 3]) {
      for (const input of ['float32', 'float64', 'int64'] as const) {
        const c = rng.intRange(1, 7);
        const x = randomX(rng, rng.intRange(1, 6), c);
        const feed = input === 'float32' ? x
          : input === 'float64' ? new Tensor('float64', Float64Array.from(x.data), x.dims)
            : new Tensor('int64', BigInt64Array.from(x.data, (v) => BigInt(Math.round(v * 2))), x.dims);
        const m: MlModel = {
          op: 'LinearRegressor', mlOpset: 1,
          attrs: {
            coefficients: { floats: coefficients(rng, targets * c) }, targets, post_transform: post,
            ...(rng.uniform() < 0.7 ? { intercepts: { floats: coefficients(rng, targets) } } : {}),
          },
          feeds: { X: feed }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'float32' }],
          // onnxruntime's LinearRegressor takes float32 only: it gets the same values as float32
          ...(input === 'float32' ? {} : { ortFeeds: { X: new Tensor('float32', Float32Array.from(feed.data as ArrayLike<number>, Number), x.dims) } }),
        };
        await assertMatchesOrt(m, `LinearRegressor ${post} targets ${targets} ${input} (seed ${rng.seed})`, TOL, first ? ['js', 'wasm'] : ['js']);
        first = false;
      }
    }
  }
});

test('LinearClassifier: multi-class and one coefficient row with 2 labels (binary), int and string labels, every transform', async () => {
  const rng = testRng(import.meta.url, 'classifier');
  let first = true;
  for (const post of TRANSFORMS) {
    for (const kind of ['multi', 'binary'] as const) {
      for (const strings of [false, true]) {
        // binary + PROBIT: onnxruntime transforms the packed scores and leaves the second half unwritten
        if (kind === 'binary' && post === 'PROBIT') continue;
        const classes = kind === 'multi' ? rng.intRange(2, 5) : 1;
        const nLabels = kind === 'multi' ? classes : 2;
        const c = rng.intRange(1, 7);
        const labels = strings ? Array.from({ length: nLabels }, (_, i) => `L${i}`) : Array.from({ length: nLabels }, (_, i) => 7 * i - 3);
        const m: MlModel = {
          op: 'LinearClassifier', mlOpset: 1,
          attrs: {
            coefficients: { floats: coefficients(rng, classes * c) }, intercepts: { floats: coefficients(rng, classes) }, post_transform: post,
            multi_class: rng.int(2),
            ...(strings ? { classlabels_strings: labels as string[] } : { classlabels_ints: labels as number[] }),
          },
          feeds: { X: randomX(rng, rng.intRange(1, 8), c) }, inputs: ['X'],
          outputs: [{ name: 'label', dtype: strings ? 'string' : 'int64' }, { name: 'scores', dtype: 'float32' }],
        };
        await assertMatchesOrt(m, `LinearClassifier ${kind} ${post} ${strings ? 'strings' : 'ints'} (seed ${rng.seed})`, TOL, first ? ['js', 'wasm'] : ['js']);
        first = false;
      }
    }
  }
});

test('LinearClassifier by hand: [1 - s, s] for one coefficient row and two labels, [probit(s), 0] under PROBIT', async () => {
  const m: MlModel = {
    op: 'LinearClassifier', mlOpset: 1,
    attrs: { coefficients: { floats: [0.5, -1] }, intercepts: { floats: [0.25] }, classlabels_ints: [4, 9] },
    feeds: { X: f32([2, 2], [1, 0, 0, 1]) }, inputs: ['X'],
    outputs: [{ name: 'label', dtype: 'int64' }, { name: 'scores', dtype: 'float32' }],
  };
  const got = await runKiln(mlModelBytes(m), m.feeds, 'js');
  assert.deepEqual(Array.from(got.label!.data as BigInt64Array), [9n, 4n]); // s = 0.75 > 0, s = -0.75
  assert.deepEqual(Array.from(got.scores!.data as Float32Array), [0.25, 0.75, 1.75, -0.75]);
  // PROBIT (onnxruntime leaves half of this unwritten): [probit(s), 0], probit(0.75) = 0.6745 (normal
  // quantile tables), to the ~2e-3 of onnxruntime's ErfInv approximation
  const mp: MlModel = { ...m, attrs: { ...m.attrs, post_transform: 'PROBIT' }, feeds: { X: f32([1, 2], [1, 0]) } };
  const p = Array.from((await runKiln(mlModelBytes(mp), mp.feeds, 'js')).scores!.data as Float32Array);
  assert.ok(Math.abs(p[0]! - 0.6745) < 2e-3 && p[1] === 0, `PROBIT scores ${p.join(', ')}`);
});

test('malformed linear models are refused with a typed error at load', async () => {
  const run = (attrs: MlModel['attrs'], op = 'LinearRegressor'): Promise<unknown> => loadKiln(mlModelBytes({
    op, mlOpset: 1, attrs, feeds: { X: f32([1, 3], [1, 2, 3]) }, inputs: ['X'],
    outputs: op === 'LinearClassifier' ? [{ name: 'label', dtype: 'int64' }, { name: 'scores', dtype: 'float32' }] : [{ name: 'Y', dtype: 'float32' }],
  }));
  const typed = (pattern: RegExp) => (e: unknown): boolean => e instanceof KilnError && pattern.test(e.message);
  await assert.rejects(run({ coefficients: { floats: [1, 2, 3, 4] }, targets: 1 }), typed(/X has 3 features but the coefficients make 1 rows of 4/));
  await assert.rejects(run({ coefficients: { floats: [1, 2, 3, 4, 5, 6] }, targets: 2, intercepts: { floats: [1, 2, 3] } }), typed(/3 intercepts for 2 targets/));
  await assert.rejects(run({ coefficients: { floats: [1, 2, 3, 4, 5, 6] }, intercepts: { floats: [0, 0] }, classlabels_ints: [1, 2, 3] }, 'LinearClassifier'), typed(/2 coefficient rows for 3 class labels/));
  await assert.rejects(run({ coefficients: { floats: [1, 2, 3] }, intercepts: { floats: [0] }, classlabels_ints: [1, 2, 3] }, 'LinearClassifier'), typed(/one row needs two labels/));
  await assert.rejects(run({ coefficients: { floats: [1, 2, 3] }, intercepts: { floats: [0] }, post_transform: 'SOFTPLUS', classlabels_ints: [0, 1] }, 'LinearClassifier'), typed(/unknown post_transform 'SOFTPLUS'/));
});
