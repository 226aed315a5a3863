import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { ExpHistogram } from '../../runtime/telemetry/latency/exp-histogram.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const seed = `seed ${rng.seed}`;

const DISTRIBUTIONS: Record<string, () => number> = {
  'log-normal (warm runs with a tail)': () => Math.exp(1 + 0.8 * rng.normal()),
  exponential: () => -Math.log(1 - rng.uniform()) * 5,
  'uniform 0.1..50': () => 0.1 + 49.9 * rng.uniform(),
  'pareto (heavy tail)': () => 2 / (1 - rng.uniform()) ** (1 / 1.5),
  'bimodal (cache hit / miss)': () => (rng.uniform() < 0.7 ? 1 + 0.1 * rng.normal() : 40 + 5 * rng.normal()),
  'with exact zeros': () => (rng.uniform() < 0.2 ? 0 : 3 * rng.uniform()),
};

const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** The exact value the sketch estimates: rank floor(q * (n - 1)) of the sorted data. */
const exact = (sorted: Float64Array, q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;

/**
 * The scale a sketch started at 5 must end at for these values: the finest one whose OTel bucket
 * indices of the smallest and largest positive value span under 1024 buckets. Computed here from
 * the mapping's definition, not by the sketch. (An exponential sample's minimum falls under ~1e-8
 * about once in 10^4 runs, and then the sketch rightly halves its resolution to 2.2%.)
 */
function expectedScale(sorted: Float64Array): number {
  const positive = sorted.filter((v) => v > 0);
  if (positive.length === 0) return 5;
  const index = (v: number, s: number): number => Math.ceil(Math.log2(v) * 2 ** s) - 1;
  let s = 5;
  while (index(positive[positive.length - 1]!, s) - index(positive[0]!, s) >= 1024) s--;
  return s;
}

/**
 * The sketch answers with its bucket's arithmetic midpoint; relative to a value v in (lo, lo*base]
 * that is farthest off at v -> lo: (base - 1) / 2 (1.095% at scale 5), plus rounding.
 */
const bucketError = (s: number): number => (2 ** (2 ** -s) - 1) / 2 + 1e-12;

// Deterministic bounds (no false failures): every quantile is within its bucket's error of the exact one.
for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
  test(`quantiles of a scale-5 sketch are within its bucket error (1.1%) of the exact ones: ${name} (${seed})`, () => {
    const values = Float64Array.from({ length: 20000 }, draw);
    const h = new ExpHistogram(5);
    for (const v of values) h.record(v);
    const sorted = values.slice().sort();
    assert.equal(h.count, values.length);
    assert.equal(h.scale, expectedScale(sorted), 'the sketch keeps the finest scale its range allows');
    const bound = bucketError(h.scale);
    for (const q of QUANTILES) {
      const want = exact(sorted, q);
      const got = h.quantile(q);
      const rel = want === 0 ? Math.abs(got) : Math.abs(got - want) / want;
      assert.ok(rel <= bound, `q=${q}: ${got} vs exact ${want} (relative error ${rel}, bound ${bound} at scale ${h.scale})`);
    }
    assert.ok(Math.abs(h.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9 * h.mean);
  });
}

test(`merging sketches equals the sketch of the concatenated data (${seed})`, () => {
  const parts = [0, 1, 2].map((k) => Float64Array.from({ length: 3000 + rng.int(3000) }, () => Math.exp(k + rng.normal())));
  const whole = new ExpHistogram();
  for (const p of parts) for (const v of p) whole.record(v);
  const merged = new ExpHistogram();
  for (const p of parts) {
    const h = new ExpHistogram();
    for (const v of p) h.record(v);
    merged.merge(h.toData()); // through the wire form, as the collector would
  }
  const a = merged.toData();
  const b = whole.toData();
  assert.deepEqual({ ...a, sum: 0 }, { ...b, sum: 0 });
  assert.ok(Math.abs(a.sum - b.sum) < 1e-9 * b.sum); // float sums differ only in rounding order
});

test(`merging a coarser sketch downscales; a range past 1024 buckets halves the resolution (${seed})`, () => {
  const values = Float64Array.from({ length: 5000 }, () => Math.exp(2 * rng.normal()));
  const fine = new ExpHistogram(5);
  const coarse = new ExpHistogram(3);
  values.forEach((v, i) => (i % 2 ? fine : coarse).record(v));
  fine.merge(coarse);
  const direct = new ExpHistogram(3);
  for (const v of values) direct.record(v);
  assert.equal(fine.scale, 3);
  assert.deepEqual(fine.toData().counts, direct.toData().counts);
  assert.equal(fine.toData().offset, direct.toData().offset);

  const wide = new ExpHistogram(5);
  wide.record(1e-6);
  wide.record(1e6); // 2^40 apart: 1280 buckets at scale 5
  assert.equal(wide.scale, 4);
  assert.ok(Math.abs(wide.quantile(1) - 1e6) / 1e6 < 0.022 && Math.abs(wide.quantile(0) - 1e-6) / 1e-6 < 0.022);
});

test('bad values are ignored and bad arguments refused', () => {
  const h = new ExpHistogram();
  for (const v of [NaN, -1, Infinity]) h.record(v);
  assert.equal(h.count, 0);
  assert.ok(Number.isNaN(h.quantile(0.5)));
  h.record(2);
  assert.throws(() => h.quantile(1.5), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new ExpHistogram(0.5), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
});
