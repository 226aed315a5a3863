import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../runtime/api/tensor.ts';
import { buildDriftReference, type DriftSamples } from '../../runtime/telemetry/drift/build-reference.ts';
import { chiSquarePValue, homogeneityPValue } from '../../runtime/telemetry/drift/chi-square.ts';
import { DRIFT_DEFAULTS, DriftMonitor } from '../../runtime/telemetry/drift/drift-monitor.ts';
import { jsDistance, normalizedWasserstein, psi } from '../../runtime/telemetry/drift/drift-scores.ts';
import type { NumericFeatureReference } from '../../runtime/telemetry/drift/drift-reference.ts';
import { KilnError } from '../../runtime/core/errors.ts';
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

/** Feeds batches until an alert; returns how many samples after `shiftAt` the alert came (or -1). */
function samplesToAlert(monitor: DriftMonitor, batch: (shifted: boolean, n: number) => DriftSamples, shiftAt: number, limit: number): { after: number; features: readonly string[] } {
  for (let fed = 0; fed < limit; ) {
    const n = 1 + rng.int(16);
    const shifted = fed >= shiftAt;
    const pre = shifted ? n : Math.min(n, shiftAt - fed); // no batch straddles the shift
    const b = batch(shifted, pre);
    for (const w of monitor.observe(b.inputs, b.outputs)) {
      if (w.alert && fed + pre > shiftAt) return { after: fed + pre - shiftAt, features: w.features.filter((f) => f.drifted).map((f) => f.name) };
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

test(`normalized Wasserstein of a 0.5-std shift is 0.5 (${seed})`, () => {
  const x = tabular(rng, 20000);
  const ref = buildDriftReference({ inputs: { x }, outputs: {} }, { origin: 't', bins: 20 }).inputs[0] as NumericFeatureReference;
  const live = Float64Array.from({ length: 4000 }, () => rng.normal() + 0.5).sort();
  const same = Float64Array.from({ length: 4000 }, () => rng.normal()).sort();
  const shifted = normalizedWasserstein(live, ref);
  assert.ok(Math.abs(shifted - 0.5) < 0.08, `shift 0.5 std -> ${shifted}`);
  assert.ok(normalizedWasserstein(same, ref) < 0.08);
});

// --- false alarms and detection -----------------------------------------------------------------

/** The smallest k with P(X <= k) >= q for X ~ Binomial(n, p). */
function binomialUpperQuantile(n: number, p: number, q: number): number {
  let term = (1 - p) ** n; // P(X = 0)
  let cdf = term;
  let k = 0;
  while (cdf < q && k < n) {
    term *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += term;
  }
  return k;
}

test(`false alarm rate per window on reference-distributed data <= alpha (${seed})`, () => {
  const ref = reference({ inputs: { x: tabular(rng, 3000), img: images(rng, 3000) }, outputs: { y: classifier(rng, 3000, UNIFORM_PRIOR) } });
  assert.equal(ref.inputs.length, FEATURES + 6);
  const monitor = new DriftMonitor(ref);
  const windows = 300;
  let alarms = 0;
  let closed = 0;
  for (let fed = 0; closed < windows; fed += 50) {
    for (const w of monitor.observe({ x: tabular(rng, 50), img: images(rng, 50) }, { y: classifier(rng, 50, UNIFORM_PRIOR) })) {
      closed++;
      if (w.alert) alarms++;
      assert.equal(w.threshold, DRIFT_DEFAULTS.alpha / monitor.featureCount);
    }
  }
  // The documented rate is at most alpha = 1% per window. A count over finitely many windows
  // scatters around the rate, so the test is a binomial one: fail when the count would occur less
  // than 0.1% of the time if the true rate were alpha (the count itself is printed for the record).
  const limit = binomialUpperQuantile(windows, DRIFT_DEFAULTS.alpha, 0.999);
  console.log(`# false alarms: ${alarms} in ${windows} windows (limit ${limit} at rate ${DRIFT_DEFAULTS.alpha})`);
  assert.ok(alarms <= limit, `${alarms} false alarms in ${windows} windows: more than ${limit}, the 99.9% quantile at rate ${DRIFT_DEFAULTS.alpha}`);
});

test(`a 0.5-std mean shift in one tabular feature alarms within 3 windows (${seed})`, () => {
  const col = rng.int(FEATURES);
  const ref = reference({ inputs: { x: tabular(rng, 5000) }, outputs: {} });
  const monitor = new DriftMonitor(ref);
  const shiftAt = WINDOW + rng.int(WINDOW);
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: { x: tabular(rng, n, (c) => (shifted && c === col ? 0.5 : 0)) }, outputs: {} }), shiftAt, shiftAt + 4 * WINDOW);
  assert.ok(found.after > 0 && found.after <= 3 * WINDOW, `alarm ${found.after} samples after the shift`);
  assert.deepEqual(found.features, [`x[${col}]`]);
});

test(`a changed class prior alarms within 3 windows (${seed})`, () => {
  const ref = reference({ inputs: {}, outputs: { y: classifier(rng, 5000, UNIFORM_PRIOR) } });
  const monitor = new DriftMonitor(ref);
  const shiftAt = rng.int(2 * WINDOW);
  const skewed = [0.4, 0.15, 0.15, 0.15, 0.15];
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: {}, outputs: { y: classifier(rng, n, shifted ? skewed : UNIFORM_PRIOR) } }), shiftAt, shiftAt + 4 * WINDOW);
  assert.ok(found.after > 0 && found.after <= 3 * WINDOW, `alarm ${found.after} samples after the shift`);
  assert.ok(found.features.includes('y.class'), found.features.join());
});

test(`an image brightness change alarms within 3 windows (${seed})`, () => {
  const ref = reference({ inputs: { img: images(rng, 3000) }, outputs: {} });
  const monitor = new DriftMonitor(ref);
  const shiftAt = rng.int(2 * WINDOW);
  const found = samplesToAlert(monitor, (shifted, n) => ({ inputs: { img: images(rng, n, shifted ? 0.1 : 0) }, outputs: {} }), shiftAt, shiftAt + 4 * WINDOW);
  assert.ok(found.after > 0 && found.after <= 3 * WINDOW, `alarm ${found.after} samples after the shift`);
  assert.ok(found.features.some((f) => f.startsWith('img.mean')), found.features.join());
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
