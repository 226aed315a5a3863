// The collector's exponential-histogram merge and quantiles against exact quantiles of the raw
// samples; histograms are built here by logarithms, the merger works by index shifts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subtractExp } from '../../collector/sketch/exp-delta.ts';
import { ExpHistogramMerger, type ExpHistogramInput } from '../../collector/sketch/exp-histogram.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

function build(samples: readonly number[], scale: number): ExpHistogramInput {
  const pos = new Map<number, number>();
  const neg = new Map<number, number>();
  let zero = 0;
  for (const v of samples) {
    if (v === 0) zero++;
    else {
      const i = Math.ceil((Math.log(Math.abs(v)) / Math.LN2) * 2 ** scale) - 1;
      const m = v > 0 ? pos : neg;
      m.set(i, (m.get(i) ?? 0) + 1);
    }
  }
  const side = (m: Map<number, number>): ExpHistogramInput['positive'] => {
    if (m.size === 0) return { offset: 0, counts: [] };
    const lo = Math.min(...m.keys());
    const counts = new Array<number>(Math.max(...m.keys()) - lo + 1).fill(0);
    for (const [k, c] of m) counts[k - lo] = c;
    return { offset: lo, counts };
  };
  return { scale, zeroCount: zero, positive: side(pos), negative: side(neg), count: samples.length, sum: samples.reduce((a, b) => a + b, 0), min: Math.min(...samples), max: Math.max(...samples) };
}

function check(m: ExpHistogramMerger, samples: readonly number[], what: string): void {
  const s = [...samples].sort((a, b) => a - b);
  const base = 2 ** (2 ** -m.currentScale);
  const err = (base - 1) / (base + 1) + 1e-12;
  for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1]) {
    const exact = s[Math.round(q * (s.length - 1))]!;
    const got = m.quantile(q)!;
    assert.ok(Math.abs(got - exact) <= err * Math.abs(exact) + 1e-12, `${what} q=${q}: ${got} vs exact ${exact} (scale ${m.currentScale})`);
  }
}

const rnd = (lo: number, hi: number): number => Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo)));

test('merging histograms of different scales: quantiles within the coarsest bucket error', () => {
  for (let trial = 0; trial < 20; trial++) {
    const m = new ExpHistogramMerger();
    const all: number[] = [];
    for (const scale of [5, 2 + (trial % 6), 8, 0]) {
      const xs = Array.from({ length: 50 + Math.floor(rng.uniform() * 200) }, () => rnd(0.01, 5000));
      all.push(...xs);
      m.add(build(xs, scale));
    }
    assert.equal(m.currentScale, 0);
    assert.equal(m.count, all.length);
    check(m, all, `trial ${trial}`);
  }
});

test('signed values and zeros', () => {
  const xs = Array.from({ length: 400 }, (_, i) => (i % 10 === 0 ? 0 : (rng.uniform() < 0.3 ? -1 : 1) * rnd(0.5, 50)));
  const m = new ExpHistogramMerger();
  m.add(build(xs.slice(0, 200), 5));
  m.add(build(xs.slice(200), 4));
  check(m, xs, 'signed');
});

test('a very wide range lowers the resolution instead of growing without bound', () => {
  // Each input is narrow enough for its fine scale (the receiver caps a point at 4096 buckets);
  // together they span 15 decades.
  const xs: number[] = [];
  const m = new ExpHistogramMerger();
  for (let d = -6; d < 9; d++) {
    const part = Array.from({ length: 60 }, () => rnd(10 ** d, 1.5 * 10 ** d));
    xs.push(...part);
    m.add(build(part, 12));
  }
  assert.ok(m.currentScale < 12);
  check(m, xs, 'wide');
});

test('an empty merger has no quantiles; min and max bound the extremes', () => {
  assert.equal(new ExpHistogramMerger().quantile(0.5), undefined);
  const xs = [3.3, 3.31, 7.7];
  const m = new ExpHistogramMerger();
  m.add(build(xs, 1));
  assert.equal(m.quantile(0), 3.3);
  assert.equal(m.quantile(1), 7.7);
});

test('subtracting cumulative snapshots leaves the newer window', () => {
  const first = Array.from({ length: 300 }, () => rnd(1, 100));
  const second = Array.from({ length: 300 }, () => rnd(50, 500));
  const delta = subtractExp(build([...first, ...second], 4), build(first, 6));
  assert.equal(delta.count, second.length);
  const m = new ExpHistogramMerger();
  m.add(delta);
  check(m, second, 'delta');
});
