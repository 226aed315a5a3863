// Binarizer, Scaler, Normalizer, Imputer and ArrayFeatureExtractor (ai.onnx.ml 1) against
// onnxruntime-web on random inputs. Integer, string and selection outputs must be equal; float
// outputs within rtol 1e-6 + atol 1e-7 (one or two float32 operations per element, the same on both
// sides; sqrt and division are correctly rounded in both).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../runtime/node.ts';
import { assertMatchesOrt, f32, loadKiln, mlModelBytes, runKiln, type MlModel } from '../helpers/ml-ort.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const TOL = { rtol: 1e-6, atol: 1e-7 };
const one = (op: string, attrs: MlModel['attrs'], X: AnyTensor, dtype: MlModel['outputs'][number]['dtype']): MlModel => ({
  op, mlOpset: 1, attrs, feeds: { X }, inputs: ['X'], outputs: [{ name: 'Y', dtype }],
});
const randomF32 = (rng: Rng, dims: number[], nan = false): AnyTensor =>
  f32(dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (nan && rng.uniform() < 0.15 ? NaN : rng.uniform() < 0.2 ? rng.pick([0, 0.5, -1]) : rng.range(-2, 2))));

test('Binarizer: thresholds hit exactly, float and double', async () => {
  const rng = testRng(import.meta.url, 'binarizer');
  for (const threshold of [0, 0.5, -1]) {
    const x = randomF32(rng, [rng.intRange(1, 5), rng.intRange(1, 6)]);
    await assertMatchesOrt(one('Binarizer', { threshold: { float: threshold } }, x, 'float32'), `Binarizer ${threshold} on wasm (seed ${rng.seed})`, TOL, ['wasm']);
    // onnxruntime runs Binarizer on float only: a double X must give the same 0 / 1 as onnxruntime's float
    const want = await assertMatchesOrt(one('Binarizer', { threshold: { float: threshold } }, x, 'float32'), `Binarizer ${threshold} (seed ${rng.seed})`, TOL);
    const md = one('Binarizer', { threshold: { float: threshold } }, new Tensor('float64', Float64Array.from(x.data as Float32Array), x.dims), 'float64');
    const got = await runKiln(mlModelBytes(md), md.feeds, 'js');
    assert.deepEqual(Array.from(got.Y!.data as Float64Array), Array.from(want.Y!.data as Float32Array), `Binarizer double ${threshold} (seed ${rng.seed})`);
  }
});

test('Binarizer on NaN gives 0 (the ONNX reference: NaN > t is false; onnxruntime refuses NaN input)', async () => {
  const m = one('Binarizer', { threshold: { float: -1 } }, f32([4], [NaN, -2, 0, -1]), 'float32');
  const got = await runKiln(mlModelBytes(m), m.feeds, 'js');
  assert.deepEqual(Array.from(got.Y!.data as Float32Array), [0, 0, 1, 0]);
});

test('Scaler: per-feature and shared offset / scale, rank 1 and 2, float, double and int64 inputs', async () => {
  const rng = testRng(import.meta.url, 'scaler');
  for (const shared of [false, true]) {
    for (const input of ['float32', 'float64', 'int64'] as const) {
      const c = rng.intRange(1, 6);
      const dims = rng.uniform() < 0.3 ? [c] : [rng.intRange(1, 5), c];
      const x = randomF32(rng, dims);
      const feed = input === 'float32' ? x : input === 'float64' ? new Tensor('float64', Float64Array.from(x.data as Float32Array), dims)
        : new Tensor('int64', BigInt64Array.from(x.data as Float32Array, (v) => BigInt(Math.round(v * 3))), dims);
      const k = shared ? 1 : c;
      const attrs = { offset: { floats: Array.from({ length: k }, () => Math.fround(rng.range(-1, 1))) }, scale: { floats: Array.from({ length: k }, () => Math.fround(rng.range(-3, 3))) } };
      await assertMatchesOrt(one('Scaler', attrs, feed, 'float32'), `Scaler ${shared ? 'shared' : 'per feature'} ${input} (seed ${rng.seed})`, TOL);
    }
  }
});

test('Normalizer: MAX, L1, L2 with all-zero and negative rows, rank 1 and 2, float and int inputs', async () => {
  const rng = testRng(import.meta.url, 'normalizer');
  for (const norm of ['MAX', 'L1', 'L2']) {
    for (const input of ['float32', 'int32'] as const) {
      const c = rng.intRange(1, 6);
      const rows = rng.intRange(1, 5);
      const values = Array.from({ length: rows * c }, () => rng.range(-2, 2));
      values.fill(0, 0, c); // the first row all zero
      if (rows > 1) for (let j = 0; j < c; j++) values[c + j] = -Math.abs(values[c + j]!); // the second all negative
      const dims = rows === 1 && rng.uniform() < 0.5 ? [c] : [rows, c];
      const feed = input === 'float32' ? f32(dims, values) : new Tensor('int32', Int32Array.from(values, (v) => Math.round(v * 3)), dims);
      await assertMatchesOrt(one('Normalizer', { norm }, feed, 'float32'), `Normalizer ${norm} ${input} (seed ${rng.seed})`, TOL, norm === 'L2' ? ['js', 'wasm'] : ['js']);
    }
  }
});

test('Imputer: NaN and a given value replaced, one or per-feature imputed values, float and int64', async () => {
  const rng = testRng(import.meta.url, 'imputer');
  for (const perFeature of [false, true]) {
    const c = 4;
    const x = randomF32(rng, [5, c], true);
    const k = perFeature ? c : 1;
    const imputed = Array.from({ length: k }, () => Math.fround(rng.range(5, 9)));
    await assertMatchesOrt(one('Imputer', { imputed_value_floats: { floats: imputed }, replaced_value_float: { float: NaN } }, x, 'float32'), `Imputer NaN (seed ${rng.seed})`, TOL);
    await assertMatchesOrt(one('Imputer', { imputed_value_floats: { floats: imputed }, replaced_value_float: { float: 0.5 } }, x, 'float32'), `Imputer 0.5 (seed ${rng.seed})`, TOL);
    const xi = new Tensor('int64', BigInt64Array.from({ length: 5 * c }, () => BigInt(rng.intRange(-2, 3))), [5, c]);
    await assertMatchesOrt(one('Imputer', { imputed_value_int64s: Array.from({ length: k }, () => rng.intRange(100, 200)), replaced_value_int64: 1 }, xi, 'int64'), `Imputer int64 (seed ${rng.seed})`, TOL);
  }
});

test('ArrayFeatureExtractor: ranks 1 to 3, repeated indices, float, int64 and string data', async () => {
  const rng = testRng(import.meta.url, 'array feature extractor');
  for (const dims of [[5], [3, 4], [2, 3, 4]]) {
    const c = dims[dims.length - 1]!;
    const size = dims.reduce((a, b) => a * b, 1);
    const k = rng.intRange(1, 5);
    const indices = new Tensor('int64', BigInt64Array.from({ length: k }, () => BigInt(rng.int(c))), [k]);
    const datas: [AnyTensor, 'float32' | 'int64' | 'string'][] = [
      [randomF32(rng, dims), 'float32'],
      [new Tensor('int64', BigInt64Array.from({ length: size }, () => BigInt(rng.intRange(-50, 50))), dims), 'int64'],
      [new Tensor('string', Array.from({ length: size }, (_, i) => `s${i}`), dims), 'string'],
    ];
    for (const [x, dtype] of datas) {
      const m: MlModel = { op: 'ArrayFeatureExtractor', mlOpset: 1, attrs: {}, feeds: { X: x, Y: indices }, inputs: ['X', 'Y'], outputs: [{ name: 'Z', dtype }] };
      await assertMatchesOrt(m, `ArrayFeatureExtractor [${dims.join(', ')}] ${dtype} (seed ${rng.seed})`, TOL);
    }
  }
});

test('malformed preprocessing nodes are refused with a typed error (at load; a bad index feed at run)', async () => {
  const x = f32([2, 3], [0, 1, 2, 3, 4, 5]);
  const run = (m: MlModel): Promise<unknown> => loadKiln(mlModelBytes(m));
  const typed = (pattern: RegExp) => (e: unknown): boolean => e instanceof KilnError && pattern.test(e.message);
  await assert.rejects(run(one('Scaler', { offset: { floats: [1, 2] }, scale: { floats: [1] } }, x, 'float32')), typed(/offset has 2 values for 3 features/));
  await assert.rejects(run(one('Normalizer', { norm: 'L3' }, x, 'float32')), typed(/unknown norm 'L3'/));
  await assert.rejects(run(one('Imputer', { imputed_value_floats: { floats: [1, 2] } }, x, 'float32')), typed(/2 imputed_value_floats for 3 features/));
  const bad = new Tensor('int64', BigInt64Array.of(3n), [1]);
  await assert.rejects(runKiln(mlModelBytes({ op: 'ArrayFeatureExtractor', mlOpset: 1, attrs: {}, feeds: { X: x, Y: bad }, inputs: ['X', 'Y'], outputs: [{ name: 'Z', dtype: 'float32' }] }), { X: x, Y: bad }, 'js'), typed(/index 3 is outside \[0, 3\)/));
});
