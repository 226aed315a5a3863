// Live drift detection: every sample a session runs is summarized by the reference's features
// (extractFeature, the code that built the reference); every `windowSize` samples the window is
// compared with the reference. A feature drifts when its chi-square p-value is under alpha / F
// (Bonferroni over the F features: at most `alpha` false alarms per window on reference-like
// traffic, whatever the correlation between features) AND the shift is large enough to matter
// (PSI, or Jensen-Shannon for categorical / normalized Wasserstein for numeric features, at or
// above its threshold).
import { fail } from '../../../core/errors.ts';
import type { DriftOptions, DriftState, DriftWindowResult, FeatureDrift } from '../telemetry-api.ts';
import { homogeneityPValue } from './chi-square.ts';
import type { DriftReference, FeatureReference, NumericFeatureReference } from './drift-reference.ts';
import { jsDistance, normalizedWasserstein, psi, referenceQuantiles } from './drift-scores.ts';
import { checkFeature, featureAt } from './extract-features.ts';
import { binCounts, sortedFinite } from './histogram.ts';
import { sampleCount, type ElementReader, type TensorView } from './tensor-values.ts';

export const DRIFT_DEFAULTS: Required<DriftOptions> = { windowSize: 200, alpha: 0.01, psi: 0.2, js: 0.1, wasserstein: 0.2, maxOverhead: 0.0025 };

/** Below this many finite values in a window a feature is not tested (too little evidence). */
export const MIN_FEATURE_SAMPLES = 30;

interface Tracked {
  readonly ref: FeatureReference;
  readonly group: 'inputs' | 'outputs';
  /** the open window's values (swapped for a fresh buffer when the window is sealed) */
  values: Float64Array;
  readonly quantiles?: ReturnType<typeof referenceQuantiles>;
  warned: boolean;
  /** this run's tensor and reader (undefined: the run does not give this feature) */
  tensor: TensorView | undefined;
  read: ElementReader | undefined;
  per: number;
}

function checkDriftOptions(options: DriftOptions): Required<DriftOptions> {
  const o = { ...DRIFT_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!Number.isInteger(o.windowSize) || o.windowSize < MIN_FEATURE_SAMPLES || o.windowSize > 1_000_000) fail('INVALID_ARGUMENT', `telemetry.drift.windowSize must be an integer in ${MIN_FEATURE_SAMPLES}..1000000, got ${o.windowSize}`);
  if (!(o.alpha > 0 && o.alpha < 1)) fail('INVALID_ARGUMENT', `telemetry.drift.alpha must be in (0, 1), got ${o.alpha}`);
  if (!(o.maxOverhead > 0 && o.maxOverhead <= 1)) fail('INVALID_ARGUMENT', `telemetry.drift.maxOverhead must be in (0, 1], got ${o.maxOverhead}`);
  for (const k of ['psi', 'js', 'wasserstein'] as const) if (!(o[k] >= 0)) fail('INVALID_ARGUMENT', `telemetry.drift.${k} must be a number >= 0, got ${o[k]}`);
  return o;
}

function checkReference(ref: DriftReference): void {
  if (typeof ref !== 'object' || ref === null || ref.version !== 1 || !Array.isArray(ref.inputs) || !Array.isArray(ref.outputs)) {
    fail('INVALID_ARGUMENT', 'the drift reference is not a version-1 DriftReference (see runtime/telemetry/drift/drift-reference.ts)');
  }
  for (const f of [...ref.inputs, ...ref.outputs]) {
    const bins = f.type === 'numeric' ? f.edges.length + 1 : f.categories.length;
    if (f.counts.length !== bins || !(f.count > 0)) fail('INVALID_ARGUMENT', `drift reference feature '${f.name}': ${f.counts.length} counts for ${bins} bins, ${f.count} samples`);
  }
}

export class DriftMonitor {
  readonly options: Required<DriftOptions>;
  private readonly tracked: Tracked[];
  private filled = 0;
  /** full windows' values per feature, waiting for scoreSealed */
  private sealed: Float64Array[][] = [];
  private windows = 0;
  private alerts = 0;
  private last: DriftWindowResult | undefined;

  constructor(reference: DriftReference, options: DriftOptions = {}) {
    checkReference(reference);
    this.options = checkDriftOptions(options);
    const track = (group: 'inputs' | 'outputs') => (ref: FeatureReference): Tracked => ({
      ref,
      group,
      values: new Float64Array(this.options.windowSize),
      ...(ref.type === 'numeric' ? { quantiles: referenceQuantiles(ref) } : {}),
      warned: false,
      tensor: undefined,
      read: undefined,
      per: 0,
    });
    this.tracked = [...reference.inputs.map(track('inputs')), ...reference.outputs.map(track('outputs'))];
  }

  get featureCount(): number {
    return this.tracked.length;
  }

  /** Adds one run's samples; returns the windows that closed (usually none or one), scored. */
  observe(inputs: Readonly<Record<string, TensorView>>, outputs: Readonly<Record<string, TensorView>>): DriftWindowResult[] {
    this.collect(inputs, outputs);
    return this.scoreSealed();
  }

  /**
   * Adds one run's samples without scoring the windows it fills: the session scores them after
   * the run has answered (scoreSealed), so the comparison never adds to a run's latency.
   * Returns whether windows wait to be scored.
   */
  collect(inputs: Readonly<Record<string, TensorView>>, outputs: Readonly<Record<string, TensorView>>): boolean {
    const first = Object.values(inputs)[0] ?? Object.values(outputs)[0];
    if (this.tracked.length === 0 || !first) return this.sealed.length > 0;
    const n = sampleCount(first);
    for (const t of this.tracked) this.bind(t, t.group === 'inputs' ? inputs : outputs, n);
    // Sample by sample, straight into the window buffers: no per-feature arrays on the run's path.
    for (let s = 0; s < n; s++) {
      for (const t of this.tracked) t.values[this.filled] = t.read ? featureAt(t.ref.source, t.tensor!, t.read, t.per, s) : NaN;
      if (++this.filled === this.options.windowSize) this.seal();
    }
    for (const t of this.tracked) t.tensor = t.read = undefined; // the run's tensors may be transferred away next
    return this.sealed.length > 0;
  }

  /** Scores the windows collect() filled, oldest first. */
  scoreSealed(): DriftWindowResult[] {
    const windows = this.sealed;
    this.sealed = [];
    return windows.map((values) => this.score(values));
  }

  state(): DriftState {
    return { windowSize: this.options.windowSize, samplesInWindow: this.filled, windows: this.windows, alerts: this.alerts, features: this.tracked.length, ...(this.last ? { last: this.last } : {}) };
  }

  /** Points the feature at this run's tensor, or at nothing (NaN values) when the run lacks or misfits it. */
  private bind(t: Tracked, group: Readonly<Record<string, TensorView>>, n: number): void {
    t.tensor = t.read = undefined;
    const tensor = group[t.ref.source.tensor];
    if (!tensor || sampleCount(tensor) !== n) return;
    try {
      const { read, per } = checkFeature(t.ref.source, tensor);
      t.tensor = tensor;
      t.read = read;
      t.per = per;
    } catch (e) {
      // A reference that does not fit the live tensor must not fail inference: say so once.
      if (!t.warned) console.warn(`kiln: drift feature '${t.ref.name}' cannot be read from '${t.ref.source.tensor}': ${(e as Error).message}`);
      t.warned = true;
    }
  }

  private seal(): void {
    this.sealed.push(this.tracked.map((t) => t.values));
    for (const t of this.tracked) t.values = new Float64Array(this.options.windowSize);
    this.filled = 0;
  }

  private score(values: readonly Float64Array[]): DriftWindowResult {
    const o = this.options;
    const threshold = o.alpha / this.tracked.length;
    const features: FeatureDrift[] = this.tracked.map((t, f) => scoreFeature(t, values[f]!, o, threshold));
    this.windows++;
    const alert = features.some((f) => f.drifted);
    if (alert) this.alerts++;
    this.last = { window: this.windows, samples: o.windowSize, alert, threshold, features, at: new Date().toISOString() };
    return this.last;
  }
}

function scoreFeature(t: Tracked, values: Float64Array, o: Required<DriftOptions>, threshold: number): FeatureDrift {
  const ref = t.ref;
  const sorted = sortedFinite(values);
  let counts: number[];
  if (ref.type === 'numeric') counts = binCounts(ref.edges, sorted);
  else {
    counts = new Array<number>(ref.categories.length).fill(0);
    for (const v of sorted) if (Number.isInteger(v) && v >= 0 && v < counts.length) counts[v]!++;
  }
  const samples = counts.reduce((a, b) => a + b, 0);
  const base = { name: ref.name, type: ref.type, samples };
  if (samples < MIN_FEATURE_SAMPLES) return { ...base, psi: 0, js: 0, pValue: 1, drifted: false };
  const scores = {
    psi: psi(counts, ref.counts),
    js: jsDistance(counts, ref.counts),
    ...(ref.type === 'numeric' ? { wasserstein: normalizedWasserstein(sorted, ref as NumericFeatureReference, t.quantiles) } : {}),
  };
  const pValue = homogeneityPValue(counts, ref.counts);
  // Jensen-Shannon for categories, normalized Wasserstein for numbers (on 200-sample windows JS over
  // 10 quantile bins is too noisy to gate numeric features: ~0.09 on reference-like traffic).
  const large = scores.psi >= o.psi || (ref.type === 'categorical' ? scores.js >= o.js : (scores.wasserstein ?? 0) >= o.wasserstein);
  return { ...base, ...scores, pValue, drifted: pValue < threshold && large };
}
