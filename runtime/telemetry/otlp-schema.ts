// The names Kiln's telemetry uses on the wire (OTLP/HTTP JSON metrics), shared by the runtime's
// exporter and the collector. Changing one is a protocol change: update docs/telemetry.md too.

/** HTTP header carrying a batch's idempotency id; the collector stores each id once per API key. */
export const BATCH_ID_HEADER = 'Idempotency-Key';

/** Metric names. Latencies are OTel exponential histograms in milliseconds (scale 5: <= 1.1% relative error). */
export const METRIC = {
  /** one run, split by attribute `kiln.phase`: total | queue | gpu | readback */
  runLatency: 'kiln.run.duration',
  /** cold start, split by `kiln.phase`: fetch | parse | upload | compile | first_run | total */
  coldStart: 'kiln.session.create.duration',
  /** monotonic sum: runs completed */
  runs: 'kiln.runs',
  /** monotonic sum: runs that failed, by `kiln.error.code` */
  runErrors: 'kiln.run.errors',
  /** gauge per window and feature: the drift score; attributes kiln.feature, kiln.drift.test, kiln.drift.alert */
  driftScore: 'kiln.drift.score',
  /** monotonic sum: windows that raised an alert, by kiln.feature */
  driftAlerts: 'kiln.drift.alerts',
  /** monotonic sum: telemetry batches dropped because the offline queue was full */
  droppedBatches: 'kiln.telemetry.dropped',
} as const;

/** Resource attributes (who is reporting) and data point attributes (what is measured). */
export const ATTR = {
  serviceName: 'service.name',
  modelName: 'kiln.model.name',
  modelVersion: 'kiln.model.version',
  backend: 'kiln.backend', // webgpu | cpu
  deviceClass: 'kiln.device.class', // gpu-discrete | gpu-integrated | gpu-software | cpu | unknown
  adapter: 'kiln.adapter', // vendor/architecture, never a unique id
  sdkVersion: 'telemetry.sdk.version',
  phase: 'kiln.phase',
  feature: 'kiln.feature',
  driftTest: 'kiln.drift.test', // psi | js | wasserstein
  driftAlert: 'kiln.drift.alert', // boolean
  errorCode: 'kiln.error.code',
} as const;
