// The public face of telemetry: the `telemetry` session option and `session.telemetry`. Plain data
// types only (everything here crosses the worker boundary by structured clone); the code that
// measures, compares and exports lives beside this file and loads only when telemetry is on.
import type { DriftReference } from './drift/drift-reference.ts';

/** Thresholds and window of the drift monitor; defaults in DRIFT_DEFAULTS and docs/telemetry.md. */
export interface DriftOptions {
  /** samples per window (each sample of a batched run counts); default 200 */
  readonly windowSize?: number;
  /** family-wise false alarm rate per window, split over the features (Bonferroni); default 0.01 */
  readonly alpha?: number;
  /** effect-size thresholds: a feature drifts when significant AND PSI or its own distance reaches them */
  readonly psi?: number;
  /** categorical features (predicted class); default 0.1 */
  readonly js?: number;
  /** numeric features, in reference standard deviations; default 0.2 */
  readonly wasserstein?: number;
  /**
   * most the drift features may cost, as a share of the mean run time; runs are sampled at random
   * to stay under it (fast models see fewer runs monitored); default 0.0025, 1 = every run
   */
  readonly maxOverhead?: number;
}

export interface TelemetryOptions {
  /**
   * OTLP/HTTP JSON metrics URL, e.g. 'https://collector.example.com/v1/metrics'. Without it nothing
   * leaves the device: latency and drift are still measured for `session.telemetry`.
   */
  readonly endpoint?: string;
  /** sent as `Authorization: Bearer <apiKey>` (use a write-only key) */
  readonly apiKey?: string;
  /** fraction of sessions that export (decided once per session); default 1 */
  readonly sampleRate?: number;
  /** resource attribute service.name; default 'kiln' */
  readonly serviceName?: string;
  /** used when the model is not a .kiln bundle that names itself */
  readonly modelName?: string;
  readonly modelVersion?: string;
  /** the drift reference for models without one in their bundle (e.g. plain ONNX); false: no drift monitor */
  readonly driftReference?: DriftReference | false;
  readonly drift?: DriftOptions;
  /** how often a batch is exported while the page is open; default 60000 ms */
  readonly exportIntervalMs?: number;
  /** batches kept (in IndexedDB where there is one) while the collector is unreachable; default 200 */
  readonly maxQueuedBatches?: number;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

export type RunPhase = 'total' | 'queue' | 'gpu' | 'readback';
export type ColdStartPhase = 'fetch' | 'parse' | 'upload' | 'compile' | 'first_run' | 'total';

export interface FeatureDrift {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
  /** samples of this window with a finite value for the feature */
  readonly samples: number;
  readonly psi: number;
  /** Jensen-Shannon distance (square root of the divergence, log base 2): 0..1 */
  readonly js: number;
  /** numeric features: Wasserstein-1 distance divided by the reference's standard deviation */
  readonly wasserstein?: number;
  /** chi-square test of the window's bin counts against the reference's */
  readonly pValue: number;
  readonly drifted: boolean;
}

export interface DriftWindowResult {
  /** 1 for the first window of the session */
  readonly window: number;
  readonly samples: number;
  readonly alert: boolean;
  /** the per-feature significance level after the multiple-testing correction */
  readonly threshold: number;
  readonly features: readonly FeatureDrift[];
  /** ISO time the window closed */
  readonly at: string;
}

/** What `onDriftAlert` and the 'driftalert' event carry. */
export interface DriftAlert {
  readonly window: number;
  /** names of the features that drifted, most significant first */
  readonly features: readonly string[];
  readonly result: DriftWindowResult;
}

export interface DriftState {
  readonly windowSize: number;
  readonly samplesInWindow: number;
  readonly windows: number;
  readonly alerts: number;
  readonly features: number;
  /** share of runs whose samples the monitor sees (below 1 when features would cost over maxOverhead of run time) */
  readonly sampling?: number;
  readonly last?: DriftWindowResult;
}

export interface ExportState {
  /** an endpoint is set and this session was sampled */
  readonly active: boolean;
  readonly sentBatches: number;
  readonly queuedBatches: number;
  /** batches dropped because the offline queue was full (reported as kiln.telemetry.dropped) */
  readonly droppedBatches: number;
  /** batches the collector refused for good (4xx other than 408/429, or too many retries) */
  readonly rejectedBatches: number;
  readonly lastError?: string;
}

export interface TelemetrySnapshot {
  readonly enabled: boolean;
  readonly runs: number;
  readonly errors: number;
  /** per run phase, over the session's life (milliseconds) */
  readonly latency: Readonly<Partial<Record<RunPhase, Percentiles>>>;
  /** cold start phases of this session (milliseconds) */
  readonly coldStart: Readonly<Partial<Record<ColdStartPhase, number>>>;
  /**
   * how latency.gpu was measured by the latest GPU run: 'timestamp-query' (the passes' execution
   * time, where the device has the feature) or 'submit-to-done' (submit until the queue reports
   * the work done, which includes queueing on the GPU); absent before a GPU run
   */
  readonly gpuTiming?: 'timestamp-query' | 'submit-to-done';
  /** undefined when there is no drift reference */
  readonly drift?: DriftState;
  readonly export: ExportState;
}

export interface FlushResult {
  readonly sent: number;
  readonly queued: number;
  readonly dropped: number;
}

export const TELEMETRY_EVENTS = {
  /** CustomEvent<DriftAlert>: a window drifted */
  driftAlert: 'driftalert',
  /** CustomEvent<DriftWindowResult>: a window closed (drifted or not) */
  window: 'driftwindow',
} as const;

/** `session.telemetry`: the same object shape in the page, in a worker and in Node. */
export interface SessionTelemetry extends EventTarget {
  /** false when the session was created without `options.telemetry` */
  readonly enabled: boolean;
  snapshot(): Promise<TelemetrySnapshot>;
  /** sends what was measured so far now (queued durably when offline); keepalive: the page is unloading */
  flush(options?: { readonly keepalive?: boolean }): Promise<FlushResult>;
}
