import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { buildDriftReference, type DriftSamples } from '../../runtime/telemetry/drift/build-reference.ts';
import { chiSquarePValue, homogeneityPValue } from '../../runtime/telemetry/drift/chi-square.ts';
import { DRIFT_DEFAULTS, DriftMonitor } from '../../runtime/telemetry/drift/drift-monitor.ts';
import { jsDistance, normalizedWasserstein, psi } from '../../runtime/telemetry/drift/drift-scores.ts';
import type { NumericFeatureReference } from '../../runtime/telemetry/drift/drift-reference.ts';
import { KilnError } from '../../core/errors.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const seed = `seed ${rng.seed}`;
const WINDOW = DRIFT_DEFAULTS.windowSize;

// --- generators: tabular rows, a 5-class classifier, images ------------------------------------

const FEATURES = 8;
const CLASSES = 5;

function tabular(r: Rng, n: number, shift: (col: number) => number = () => 0): Tensor<'float32'> {
  const data = new Float32Array(n * FEATURES);
  for (let i = 0; i < data.length; i++) data[i] = r.normal() + shift(i % FEATURES);
  return new Tensor('float32', data, [n, FEATURES]);
}

/** Logits whose argmax follows `prior` (the true class gets a margin), plus noise. */
function classifier(r: Rng, n: number, prior: readonly number[]): Tensor<'float32'> {
  const data = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    let u = r.uniform();
    let cls = 0;
    while (cls < CLASSES - 1 && u >= prior[cls]!) u -= prior[cls++]!;
    for (let c = 0; c < CLASSES; c++) data[i * CLASSES + c] = r.normal() * 0.3 + (c === cls ? 3 + r.uniform() : 0);
  }
  return new Tensor('float32', data, [n, CLASSES]);
}

const UNIFORM_PRIOR = [0.2, 0.2, 0.2, 0.2, 0.2];

/** [n, 3, 8, 8] images in [0, 1]: a per-image brightness and per-channel tint, plus pixel noise. */
function images(r: Rng, n: number, brightness = 0): Tensor<'float32'> {
  const px = 8 * 8;
  const data = new Float32Array(n * 3 * px);
  for (let s = 0; s < n; s++) {
    const base = 0.3 + 0.4 * r.uniform() + brightness;
    for (let c = 0; c < 3; c++) {
      const tint = base + 0.05 * r.normal();
      for (let p = 0; p < px; p++) data[(s * 3 + c) * px + p] = Math.min(1, Math.max(0, tint + 0.1 * r.normal()));
    }
  }
  return new Tensor('float32', data, [n, 3, 8, 8]);
}

const reference = (samples: DriftSamples) => buildDriftReference(samples, { origin: 'test', outputs: Object.fromEntries(Object.keys(samples.outputs).map((k) => [k, { kind: 'classes' as const }])) });

/**
 * Feeds batches until the first window holding shifted samples whose alert names a feature `hit`
 * accepts; returns how many samples after `shiftAt` that window closed (or -1) and the features it named.
 * A false alarm on another feature before that does not end the search: its rate is the
 * false-alarm test's business.
 */
function samplesToAlert(monitor: DriftMonitor, batch: (shifted: boolean, n: number) => DriftSamples, shiftAt: number, limit: number, hit: (feature: string) => boolean): { after: number; features: readonly string[] } {
  for (let fed = 0; fed < limit; ) {
    const n = 1 + rng.int(16);
    const shifted = fed >= shiftAt;
    const pre = shifted ? n : Math.min(n, shiftAt - fed); // no batch straddles the shift
    const b = batch(shifted, pre);
    for (const w of monitor.observe(b.inputs, b.outputs)) {
      const features = w.features.filter((f) => f.drifted).map((f) => f.name);
      const closedAt = w.window * w.samples; // windows are whole sample counts, whatever the batches
      if (w.alert && closedAt > shiftAt && features.some(hit)) return { after: closedAt - shiftAt, features };
    }
    fed += pre;
  }
  return { after: -1, features: [] };
}

// --- the scores against hand computations and tables -------------------------------------------

test('PSI, Jensen-Shannon and the chi-square p-value match hand computations and tables', () => {
  // PSI with +0.5 smoothing: q = (w+.5)/(W+1), p = (r+.5)/(R+1) over 2 bins.
  const q = [30.5 / 101, 70.5 / 101];
  const p = [50.5 / 101, 50.5 / 101];
  assert.ok(Math.abs(psi([30, 70], [50, 50]) - ((q[0]! - p[0]!) * Math.log(q[0]! / p[0]!) + (q[1]! - p[1]!) * Math.log(q[1]! / p[1]!))) < 1e-12);
  assert.equal(jsDistance([1, 0], [0, 1]), 1); // disjoint: one bit
  assert.equal(jsDistance([3, 7], [30, 70]), 0);
  // JS([.5,.5],[1,0]) = 0.5*(.5log2(.5/.75)+.5log2(.5/.25)) + 0.5*(1*log2(1/.75)) bits
  const jsd = 0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(2)) + 0.5 * Math.log2(1 / 0.75);
  assert.ok(Math.abs(jsDistance([5, 5], [10, 0]) - Math.sqrt(jsd)) < 1e-12);
  // Chi-square critical values (standard tables): P(X >= c) = 0.05 / 0.01.
  for (const [stat, df, want] of [[3.841, 1, 0.05], [18.307, 10, 0.05], [6.635, 1, 0.01], [23.209, 10, 0.01], [124.342, 100, 0.05]] as const) {
    assert.ok(Math.abs(chiSquarePValue(stat, df) - want) < 2e-4, `chi2(${stat}, ${df})`);
  }
  // Homogeneity on a 2x2 table equals the classic formula N(ad-bc)^2/(r1 r2 c1 c2).
  const [a, b, c, d] = [30, 70, 60, 140 - 60 + 60];
  const n = a + b + c + d;
  const stat = (n * (a * d - b * c) ** 2) / ((a + b) * (c + d) * (a + c) * (b + d));
  assert.ok(Math.abs(homogeneityPValue([a, b], [c, d]) - chiSquarePValue(stat, 1)) < 1e-12);
});

// False failures: over 300 runs (reference of 20 000, 16 000 live values) the shifted score's
// error had std 0.011 and the unshifted score mean 0.013, std 0.005: the 0.08 bounds sit 7.2 and
// 13 standard deviations away (normal tail < 1e-11 per run; with 4 000 live values it was 4.4
// std, ~1e-5).
test(`normalized Wasserstein of a 0.5-std shift is 0.5 (${seed})`, () => {
  const x = tabular(rng, 20000);
  const ref = buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', bins: 20 }).inputs[0] as NumericFeatureReference;
  const live = Float64Array.from({ length: 16000 }, () => rng.normal() + 0.5).sort();
  const same = Float64Array.from({ length: 16000 }, () => rng.normal()).sort();
  const shifted = normalizedWasserstein(live, ref);
  assert.ok(Math.abs(shifted - 0.5) < 0.08, `shift 0.5 std -> ${shifted}`);
  assert.ok(normalizedWasserstein(same, ref) < 0.08);
});

// --- false alarms and detection -----------------------------------------------------------------

/**
 * The smallest k with P(X > k) <= tail for X ~ Binomial(n, p), from the exact probabilities: the
 * upper tail is summed from the top, so a tail of 1e-6 is not lost in rounding next to 1.
 */
function binomialUpperQuantile(n: number, p: number, tail: number): number {
  const pmf = new Float64Array(n + 1);
  pmf[0] = Math.exp(n * Math.log1p(-p));
  for (let k = 0; k < n; k++) pmf[k + 1] = pmf[k]! * ((n - k) / (k + 1)) * (p / (1 - p));
  let above = 0; // P(X > k)
  for (let k = n; k >= 0; k--) {
    if (above + pmf[k]! > tail) return k; // P(X > k - 1) would exceed the tail
    above += pmf[k]!;
  }
  return 0;
}

test('the binomial quantile matches exact values (scipy.stats.binom.sf)', () => {
  assert.equal(binomialUpperQuantile(1000, 0.01, 1e-6), 28); // sf(28) = 6.4e-7, sf(27) = 1.6e-6
  assert.equal(binomialUpperQuantile(1000, 0.01, 1e-3), 21);
  assert.equal(binomialUpperQuantile(300, 0.01, 1e-3), 10);
});

test(`false alarm rate per window on reference-distributed data <= alpha (${seed})`, () => {
  const ref = reference({ inputs: { x: tabular(rng, 3000), img: images(rng, 3000) }, outputs: { y: classifier(rng, 3000, UNIFORM_PRIOR) } });
  assert.equal(ref.inputs.length, FEATURES + 6);
  const monitor = new DriftMonitor(ref);
  // The same traffic through a broken detector: no Bonferroni correction and no effect-size gate.
  const broken = new DriftMonitor(ref, { alpha: Math.min(0.5, DRIFT_DEFAULTS.alpha * monitor.featureCount), psi: 0, js: 0, wasserstein: 0 });
  const windows = 1000;
  let alarms = 0;
  let brokenAlarms = 0;
  let closed = 0;
  while (closed < windows) {
    const inputs = { x: tabular(rng, 50), img: images(rng, 50) };
    const outputs = { y: classifier(rng, 50, UNIFORM_PRIOR) };
    for (const w of monitor.observe(inputs, outputs)) {
      closed++;
      if (w.alert) alarms++;
      assert.equal(w.threshold, DRIFT_DEFAULTS.alpha / monitor.featureCount);
    }
    for (const w of broken.observe(inputs, outputs)) if (w.alert) brokenAlarms++;
  }
  // The documented rate is at most alpha = 1% per window; windows are independent given the
  // reference. Binomial test: fail when the count exceeds the 1 - 1e-6 quantile at rate alpha, so
  // a detector that keeps its promise fails this by chance at most once in 10^6 runs (measured:
  // 3 to 5 alarms in 1000 windows, a rate near 0.4%). Power: at a true rate of 4% the test fails
  // with probability 0.973, at 5% with 0.9996 (binomial, 1000 windows).
  const limit = binomialUpperQuantile(windows, DRIFT_DEFAULTS.alpha, 1e-6);
  console.log(`# false alarms: ${alarms} in ${windows} windows (limit ${limit} at rate ${DRIFT_DEFAULTS.alpha}); broken detector: ${brokenAlarms}`);
  assert.ok(alarms <= limit, `${alarms} false alarms in ${windows} windows: more than ${limit}, the 1 - 1e-6 quantile at rate ${DRIFT_DEFAULTS.alpha}`);
  // The test can fail: the broken detector alarmed on 12-15% of windows (measured, 3 runs), and
  // P(X <= 28) for X ~ Binomial(1000, 0.10) is 1e-18.
  assert.ok(brokenAlarms > limit, `the broken detector's ${brokenAlarms} alarms stay under the limit ${limit}: the test has no power`);
});

// Detection: each window fully after the shift detects it with probability d, measured over
// 10 000 windows of 200 (20 references x 500): 0.5-std tabular shift 1 - d = 1.5%, class prior
// 0.37%, brightness 0 misses. The limits leave at least 4, 3 and 2 full shifted windows, so a
// miss of all of them by chance is (0.0175)^4 = 1e-7, (0.005)^3 = 1.3e-7 and (3e-4)^2 = 1e-7 per
// run (upper 95% bounds of the measured miss rates).
test(`a 0.5-std mean shift in one tabular feature alarms within 5 windows, naming it (${seed})`, () => {
  const col = rng.int(FEATURES);
  const ref = reference({ inputs: { x: tabular(rng, 5000) }, outputs: {} });
  const monitor = new DriftMonitor(ref);
  const shiftAt = WINDOW + rng.int(WINDOW);
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: { x: tabular(rng, n, (c) => (shifted && c === col ? 0.5 : 0)) }, outputs: {} }), shiftAt, shiftAt + 6 * WINDOW, (f) => f === `x[${col}]`);
  assert.ok(found.after > 0 && found.after <= 5 * WINDOW, `alarm ${found.after} samples after the shift`);
  // The 7 unshifted features may false-alarm in the same window, each with p <= alpha / 8:
  // three or more of them together has probability <= C(7,3) (0.01/8)^3 = 7e-8.
  assert.ok(found.features.length <= 3, `named more than the shifted feature and two false alarms: ${found.features.join()}`);
});

test(`a changed class prior alarms within 4 windows (${seed})`, () => {
  const ref = reference({ inputs: {}, outputs: { y: classifier(rng, 5000, UNIFORM_PRIOR) } });
  const monitor = new DriftMonitor(ref);
  const shiftAt = rng.int(2 * WINDOW);
  const skewed = [0.4, 0.15, 0.15, 0.15, 0.15];
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: {}, outputs: { y: classifier(rng, n, shifted ? skewed : UNIFORM_PRIOR) } }), shiftAt, shiftAt + 5 * WINDOW, (f) => f === 'y.class');
  assert.ok(found.after > 0 && found.after <= 4 * WINDOW, `alarm ${found.after} samples after the shift`);
});

test(`an image brightness change alarms within 3 windows (${seed})`, () => {
  const ref = reference({ inputs: { img: images(rng, 3000) }, outputs: {} });
  const monitor = new DriftMonitor(ref);
  const shiftAt = rng.int(2 * WINDOW);
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: { img: images(rng, n, shifted ? 0.1 : 0) }, outputs: {} }), shiftAt, shiftAt + 4 * WINDOW, (f) => f.startsWith('img.mean'));
  assert.ok(found.after > 0 && found.after <= 3 * WINDOW, `alarm ${found.after} samples after the shift`);
});

test('bad drift options and references are refused; a reference that does not fit the live tensor does not fail', () => {
  const ref = reference({ inputs: { x: tabular(rng, 300) }, outputs: {} });
  const invalid = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && re.test(e.message));
  invalid(() => new DriftMonitor(ref, { windowSize: 5 }), /windowSize/);
  invalid(() => new DriftMonitor(ref, { alpha: 2 }), /alpha/);
  invalid(() => new DriftMonitor(ref, { psi: -1 }), /psi/);
  // The cast passes a version the type forbids: what a newer bundle would carry.
  invalid(() => new DriftMonitor({ ...ref, version: 2 } as unknown as typeof ref), /version-1/);
  invalid(() => new DriftMonitor({ ...ref, inputs: [{ ...ref.inputs[0]!, counts: [1] }] }), /counts/);
  const monitor = new DriftMonitor(ref, { windowSize: 40 });
  const warn = console.warn;
  const warnings: unknown[] = [];
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    const narrow = new Tensor('float32', Float32Array.from({ length: 40 * 2 }, () => rng.normal()), [40, 2]);
    const [w] = monitor.observe({ x: narrow }, {});
    assert.equal(w!.features[5]!.samples, 0); // column 5 of a 2-wide tensor: no values, no test
    assert.equal(w!.alert, false);
    assert.equal(warnings.length, FEATURES - 2);
  } finally {
    console.warn = warn;
  }
});
