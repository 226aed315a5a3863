import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { buildDriftReference } from '../../runtime/telemetry/drift/build-reference.ts';
import type { CategoricalFeatureReference, NumericFeatureReference } from '../../runtime/telemetry/drift/drift-reference.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const seed = `seed ${rng.seed}`;

function tabular(n: number, f: number, gen: (row: number, col: number) => number): Tensor<'float32'> {
  const data = new Float32Array(n * f);
  for (let r = 0; r < n; r++) for (let c = 0; c < f; c++) data[r * f + c] = gen(r, c);
  return new Tensor('float32', data, [n, f]);
}

const numeric = (ref: { type: string }): NumericFeatureReference => {
  assert.equal(ref.type, 'numeric');
  return ref as NumericFeatureReference;
};

test(`tabular columns: quantile bins hold equal shares; moments match a direct computation (${seed})`, () => {
  const n = 4000;
  const x = tabular(n, 3, (_, c) => rng.normal() * (c + 1) + 10 * c);
  const ref = buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 'test', bins: 8, inputs: { x: { featureNames: ['a', 'b', 'c'] } } });
  assert.equal(ref.samples, n);
  assert.deepEqual(ref.inputs.map((r) => r.name), ['a', 'b', 'c']);
  for (let c = 0; c < 3; c++) {
    const r = numeric(ref.inputs[c]!);
    const col = Array.from({ length: n }, (_, i) => x.data[i * 3 + c]!);
    const mean = col.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    assert.ok(Math.abs(r.mean - mean) < 1e-9 * (1 + Math.abs(mean)));
    assert.ok(Math.abs(r.std - std) < 1e-9 * std);
    assert.equal(r.min, Math.min(...col));
    assert.equal(r.max, Math.max(...col));
    assert.equal(r.edges.length, 7);
    assert.equal(r.counts.reduce((a, b) => a + b, 0), n);
    // Each edge is the value at rank floor(j*n/8), so bin j has exactly n/8 values (no ties).
    for (const count of r.counts) assert.equal(count, n / 8);
    // Recount by linear scan rather than binary search.
    const recount = new Array<number>(8).fill(0);
    for (const v of col) recount[r.edges.filter((e) => e <= v).length]!++;
    assert.deepEqual(recount, r.counts);
  }
});

test(`images: NCHW and the same pixels in NHWC give the same channel mean and contrast (${seed})`, () => {
  const [n, ch, h, w] = [6, 3, 20, 30];
  const nchw = new Float32Array(n * ch * h * w).map(() => rng.uniform());
  const nhwc = new Float32Array(nchw.length);
  for (let s = 0; s < n; s++) for (let c = 0; c < ch; c++) for (let p = 0; p < h * w; p++) nhwc[s * ch * h * w + p * ch + c] = nchw[s * ch * h * w + c * h * w + p]!;
  const a = buildDriftReference({ inputs: { img: new Tensor('float32', nchw, [n, ch, h, w]) }, outputs: {} }, { origin: 't', bins: 3 });
  const b = buildDriftReference({ inputs: { img: new Tensor('float32', nhwc, [n, h, w, ch]) }, outputs: {} }, { origin: 't', bins: 3 });
  assert.equal(a.inputs.length, 6);
  assert.deepEqual(a.inputs.map((r) => r.source), a.inputs.map((_, i) => ({ kind: i % 2 ? 'channel-contrast' : 'channel-mean', tensor: 'img', channel: i >> 1, layout: 'NCHW' })));
  for (let i = 0; i < 6; i++) {
    const ra = numeric(a.inputs[i]!);
    const rb = numeric(b.inputs[i]!);
    assert.ok(Math.abs(ra.mean - rb.mean) < 1e-12 && Math.abs(ra.std - rb.std) < 1e-12, ra.name);
  }
  // Channel 1 mean of sample-averaged means equals the mean of all its pixels (600 <= 4096: all read).
  let sum = 0;
  for (let s = 0; s < n; s++) for (let p = 0; p < h * w; p++) sum += nchw[s * ch * h * w + h * w + p]!;
  assert.ok(Math.abs(numeric(a.inputs[2]!).mean - sum / (n * h * w)) < 1e-9);
});

test(`classifier output: predicted-class counts and top score match a direct count (${seed})`, () => {
  const n = 500;
  const logits = tabular(n, 4, () => rng.normal());
  const ref = buildDriftReference({ inputs: {}, outputs: { probs: logits } }, { origin: 't', outputs: { probs: { kind: 'classes', labels: ['a', 'b', 'c', 'd'] } } });
  const cls = ref.outputs[0] as CategoricalFeatureReference;
  assert.equal(cls.type, 'categorical');
  assert.deepEqual(cls.categories, ['a', 'b', 'c', 'd']);
  const want = [0, 0, 0, 0];
  let maxSum = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.data.subarray(i * 4, i * 4 + 4));
    want[row.indexOf(Math.max(...row))]!++;
    maxSum += Math.max(...row);
  }
  assert.deepEqual(cls.counts, want);
  assert.ok(Math.abs(numeric(ref.outputs[1]!).mean - maxSum / n) < 1e-9);
});

test(`wide tabular inputs keep the 64 highest-variance columns (${seed})`, () => {
  const f = 100;
  const wide = new Set<number>();
  while (wide.size < 64) wide.add(rng.int(f));
  const x = tabular(300, f, (_, c) => rng.normal() * (wide.has(c) ? 5 : 0.1));
  const ref = buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't' });
  assert.deepEqual(ref.inputs.map((r) => (r.source.kind === 'column' ? r.source.index : -1)), [...wide].sort((a, b) => a - b));
});

test(`several batches give the same reference as their concatenation (${seed})`, () => {
  const x = tabular(600, 2, () => rng.normal());
  const y = tabular(600, 3, () => rng.normal());
  const part = (t: Tensor<'float32'>, from: number, to: number): Tensor<'float32'> => {
    const w = t.dims[1]!;
    return new Tensor('float32', t.data.slice(from * w, to * w), [to - from, w]);
  };
  const whole = buildDriftReference({ inputs: { x }, outputs: { y } }, { origin: 't' });
  const parts = buildDriftReference(
    [{ inputs: { x: part(x, 0, 250) }, outputs: { y: part(y, 0, 250) } }, { inputs: { x: part(x, 250, 600) }, outputs: { y: part(y, 250, 600) } }],
    { origin: 't' },
  );
  assert.deepEqual(parts, whole);
});

test('constant and discrete features get bins that still separate new values', () => {
  const n = 100;
  const x = tabular(n, 2, (r, c) => (c === 0 ? 3 : r % 10 < 7 ? 0 : 1));
  const ref = buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't' });
  const constant = numeric(ref.inputs[0]!);
  assert.deepEqual(constant.counts, [0, n, 0]);
  const binary = numeric(ref.inputs[1]!);
  assert.deepEqual(binary.edges, [1]);
  assert.deepEqual(binary.counts, [70, 30]);
});

test('bad samples and options are refused with INVALID_ARGUMENT', () => {
  const x = tabular(10, 2, () => rng.normal());
  const y = tabular(9, 2, () => rng.normal());
  const invalid = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && re.test(e.message));
  invalid(() => buildDriftReference({ inputs: { x }, outputs: { y } }, { origin: 't' }), /9 samples/);
  invalid(() => buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', bins: 1 }), /bins/);
  invalid(() => buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', inputs: { nope: {} } }), /'nope'/);
  invalid(() => buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', inputs: { x: { featureNames: ['a'] } } }), /1 feature names for 2/);
  invalid(() => buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', inputs: { x: { layout: 'NCHW' } } }), /rank-4/);
  invalid(() => buildDriftReference([], { origin: 't' }), /at least one batch/);
  invalid(() => buildDriftReference({ inputs: { x: tabular(0, 2, () => 0) }, outputs: {} }, { origin: 't' }), /at least one sample/);
});
