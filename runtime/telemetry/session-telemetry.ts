// The telemetry of one session when `options.telemetry` is given: latency sketches, the drift
// monitor, and (with an endpoint, for sampled sessions) the OTLP exporter. The session calls the
// record* methods; pages read it through `session.telemetry`. Loaded by dynamic import, so pages
// without telemetry never download it.
import { fail } from '../../core/errors.ts';
import type { DriftReference } from './drift/drift-reference.ts';
import { DriftMonitor } from './drift/drift-monitor.ts';
import type { TensorView } from './drift/tensor-values.ts';
import { IndexedDbQueue, MemoryQueue } from './export/batch-queue.ts';
import { attributes, encodeMetrics, packRequests } from './export/otlp-encode.ts';
import { OtlpExporter } from './export/otlp-exporter.ts';
import { LatencyRecorder } from './latency/latency-recorder.ts';
import type { RunTiming } from './latency/run-timing.ts';
import { ATTR } from './otlp-schema.ts';
import { onPageHidden } from './page-lifecycle.ts';
import { TELEMETRY_EVENTS, type ColdStartPhase, type DriftAlert, type DriftWindowResult, type FlushResult, type SessionTelemetry, type TelemetryOptions, type TelemetrySnapshot } from './telemetry-api.ts';

export const TELEMETRY_DEFAULTS = { sampleRate: 1, serviceName: 'kiln', exportIntervalMs: 60_000, maxQueuedBatches: 200 } as const;
const WARM_UP_OBSERVATIONS = 5;

/**
 * Decides which runs the drift monitor sees: every run while that costs under `share` of the mean
 * run time, else a random subset sized to fit. Random, so the sampled runs represent all of them.
 */
class CostBudget {
  private runMs = 0;
  private costMs = 0;
  /** the first observations run at rate 1 and keep their minimum (the first ones include JIT warm-up) */
  private observations = 0;

  constructor(private readonly share: number) {}

  ran(ms: number): void {
    this.runMs = this.runMs === 0 ? ms : 0.9 * this.runMs + 0.1 * ms;
  }

  private pendingMs = 0;

  /** the cost of observing one run (plus any scoring charged since the last one) */
  spent(ms: number): void {
    const cost = ms + this.pendingMs;
    this.pendingMs = 0;
    this.observations++;
    this.costMs = this.observations === 1 ? cost : this.observations <= WARM_UP_OBSERVATIONS ? Math.min(this.costMs, cost) : 0.9 * this.costMs + 0.1 * cost;
  }

  /** work done later on behalf of observed runs (scoring a full window) */
  charge(ms: number): void {
    this.pendingMs += ms;
  }

  /** the probability that a run is observed now */
  get rate(): number {
    return this.observations < WARM_UP_OBSERVATIONS || this.share >= 1 ? 1 : Math.min(1, (this.share * this.runMs) / this.costMs);
  }

  take(): boolean {
    return Math.random() < this.rate;
  }
}

/** How often a draft of the next batch is stored while runs happen (durable queues only). */
const CHECKPOINT_MS = 2000;
/** A draft not refreshed for this long belongs to a session that is gone: anyone may send it. */
const DRAFT_HOLD_MS = 3 * CHECKPOINT_MS;
/** How long release() waits for its last delivery. */
const RELEASE_FLUSH_WAIT_MS = 3000;
/** Upper bound of one request body before gzip. */
export const MAX_BATCH_BYTES = 256 * 1024;
/** Drift windows kept for export while the collector is unreachable (older ones are summarized by kiln.drift.alerts only). */
const MAX_PENDING_WINDOWS = 50;

export interface TelemetryContext {
  readonly modelName?: string;
  readonly modelVersion?: string;
  /** the bundle's reference (a .kiln model); options.driftReference wins */
  readonly driftReference?: DriftReference;
  /** read at export time: the backend may change (device loss) */
  readonly backend: () => { readonly name: string; readonly adapter: string };
  readonly onDriftAlert?: (alert: DriftAlert) => void;
}

/** gpu-discrete | gpu-integrated | gpu-software | cpu | unknown, from what the adapter says of itself. */
export function deviceClass(backend: string, adapter: string): string {
  if (backend === 'wasm' || backend === 'js' || backend === 'cpu') return 'cpu'; // 'cpu': sessions before the wasm backend
  if (backend !== 'webgpu') return 'unknown';
  const a = adapter.toLowerCase();
  if (/\(software\)|swiftshader|llvmpipe|lavapipe|warp/.test(a)) return 'gpu-software';
  if (/intel|apple|arm|mali|qualcomm|adreno|imagination|powervr/.test(a)) return 'gpu-integrated';
  if (/nvidia|amd|ati/.test(a)) return 'gpu-discrete';
  return 'unknown';
}

export function checkTelemetryOptions(o: TelemetryOptions): void {
  if (typeof o !== 'object' || o === null) fail('INVALID_ARGUMENT', 'options.telemetry must be an object (or false)');
  if (o.endpoint !== undefined) {
    try {
      if (!/^https?:$/.test(new URL(o.endpoint).protocol)) throw new Error('not http(s)');
    } catch {
      fail('INVALID_ARGUMENT', `telemetry.endpoint must be an absolute http(s) URL, got '${String(o.endpoint)}'`);
    }
  }
  if (o.sampleRate !== undefined && !(o.sampleRate >= 0 && o.sampleRate <= 1)) fail('INVALID_ARGUMENT', `telemetry.sampleRate must be in 0..1, got ${o.sampleRate}`);
  if (o.exportIntervalMs !== undefined && !(o.exportIntervalMs >= 1000)) fail('INVALID_ARGUMENT', `telemetry.exportIntervalMs must be >= 1000, got ${o.exportIntervalMs}`);
  if (o.maxQueuedBatches !== undefined && !(Number.isInteger(o.maxQueuedBatches) && o.maxQueuedBatches >= 1)) fail('INVALID_ARGUMENT', `telemetry.maxQueuedBatches must be a positive integer, got ${o.maxQueuedBatches}`);
}

export class ActiveTelemetry extends EventTarget implements SessionTelemetry {
  readonly enabled = true;
  private readonly latency = new LatencyRecorder();
  private readonly drift: DriftMonitor | undefined;
  private pendingWindows: DriftWindowResult[] = [];
  private interval: ReturnType<typeof setInterval> | undefined;
  private released = false;
  private scoring = false;
  /** measured since the last checkpoint */
  private dirty = false;
  /** ids of the stored draft of the next batch */
  private draftIds: string[] = [];
  private checkpointTimer: ReturnType<typeof setInterval> | undefined;
  /** checkpoints and flushes one at a time, so a draft never outlives the batch that replaced it */
  private queueWork: Promise<unknown> = Promise.resolve();

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queueWork.catch(() => undefined).then(work);
    this.queueWork = next;
    return next;
  }
  private readonly costBudget: CostBudget;
  private unwatch: (() => void) | undefined;

  private constructor(
    private readonly options: TelemetryOptions,
    private readonly ctx: TelemetryContext,
    private readonly exporter: OtlpExporter | undefined,
  ) {
    super();
    const reference = options.driftReference === false ? undefined : (options.driftReference ?? ctx.driftReference);
    this.drift = reference ? new DriftMonitor(reference, options.drift) : undefined;
    this.costBudget = new CostBudget(this.drift?.options.maxOverhead ?? 1);
    if (exporter) {
      this.interval = setInterval(() => void this.flush().catch(() => undefined), options.exportIntervalMs ?? TELEMETRY_DEFAULTS.exportIntervalMs);
      (this.interval as { unref?: () => void }).unref?.();
      if (exporter.durable) {
        // A page can be closed at any moment, and a worker dies with it before it can send: keep
        // a draft of the next batch in the durable queue, so at most CHECKPOINT_MS of data is lost.
        this.checkpointTimer = setInterval(() => void this.serial(() => this.checkpoint()).catch(() => undefined), CHECKPOINT_MS);
        (this.checkpointTimer as { unref?: () => void }).unref?.();
      }
      void exporter.deliver({ retryOffline: true }).catch(() => undefined); // batches left by an earlier page (offline, closed)
      const g = globalThis as { addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };
      const online = (): void => void exporter.deliver({ retryOffline: true }).catch(() => undefined);
      g.addEventListener?.('online', online);
      const unwatchPage = onPageHidden(() => void this.flush({ keepalive: true }).catch(() => undefined));
      this.unwatch = () => {
        g.removeEventListener?.('online', online);
        unwatchPage();
      };
    }
  }

  static async create(options: TelemetryOptions, ctx: TelemetryContext): Promise<ActiveTelemetry> {
    checkTelemetryOptions(options);
    const sampled = options.endpoint !== undefined && Math.random() < (options.sampleRate ?? TELEMETRY_DEFAULTS.sampleRate);
    let exporter: OtlpExporter | undefined;
    if (sampled && options.endpoint) {
      const queue = (await IndexedDbQueue.open()) ?? new MemoryQueue();
      exporter = new OtlpExporter({ endpoint: options.endpoint, ...(options.apiKey ? { apiKey: options.apiKey } : {}), maxQueuedBatches: options.maxQueuedBatches ?? TELEMETRY_DEFAULTS.maxQueuedBatches, queue });
    }
    return new ActiveTelemetry(options, ctx, exporter);
  }

  recordColdStart(phases: Partial<Record<ColdStartPhase, number>>): void {
    this.latency.recordColdStart(phases);
  }

  recordRun(calledAt: number, startedAt: number, endedAt: number, timing: RunTiming | undefined): void {
    this.latency.recordRun(calledAt, startedAt, endedAt, timing);
    this.costBudget.ran(endedAt - startedAt);
    this.dirty = true;
  }

  recordError(code: string): void {
    this.dirty = true;
    this.latency.recordError(code);
  }

  /**
   * Feeds one run's inputs and outputs to the drift monitor (features only: cheap, and before the
   * tensors can be transferred away). Full windows are scored once the run has answered.
   */
  observe(inputs: Readonly<Record<string, TensorView>>, outputs: Readonly<Record<string, TensorView>>): void {
    if (!this.drift || !this.costBudget.take()) return;
    const started = performance.now();
    const full = this.drift.collect(inputs, outputs);
    this.costBudget.spent(performance.now() - started);
    if (full && !this.scoring) {
      this.scoring = true;
      setTimeout(() => {
        this.scoring = false;
        this.scoreWindows();
      }, 0);
    }
  }

  /** Scores full windows now (also done by snapshot and flush, so they never miss a window). */
  private scoreWindows(): void {
    if (!this.drift) return;
    const started = performance.now();
    const windows = this.drift.scoreSealed();
    if (windows.length > 0) this.costBudget.charge(performance.now() - started);
    for (const w of windows) {
      this.pendingWindows.push(w);
      if (this.pendingWindows.length > MAX_PENDING_WINDOWS) this.pendingWindows.shift();
      this.dispatchEvent(new CustomEvent(TELEMETRY_EVENTS.window, { detail: w }));
      if (!w.alert) continue;
      const features = w.features.filter((f) => f.drifted).sort((a, b) => a.pValue - b.pValue).map((f) => f.name);
      const alert: DriftAlert = { window: w.window, features, result: w };
      this.dispatchEvent(new CustomEvent(TELEMETRY_EVENTS.driftAlert, { detail: alert }));
      try {
        this.ctx.onDriftAlert?.(alert);
      } catch (e) {
        console.error('kiln: an onDriftAlert listener threw', e); // the caller's bug must not fail runs
      }
      if (this.exporter) void this.flush().catch(() => undefined); // alerts should reach dashboards now
    }
  }

  async snapshot(): Promise<TelemetrySnapshot> {
    this.scoreWindows();
    const { latency, coldStart, gpuTiming } = this.latency.summary();
    const e = this.exporter;
    return {
      enabled: true,
      runs: this.latency.runs,
      errors: this.latency.errors,
      latency,
      coldStart,
      ...(gpuTiming ? { gpuTiming } : {}),
      ...(this.drift ? { drift: { ...this.drift.state(), sampling: this.costBudget.rate } } : {}),
      export: {
        active: e !== undefined,
        sentBatches: e?.sentBatches ?? 0,
        queuedBatches: e ? await e.queued() : 0,
        droppedBatches: e?.droppedBatches ?? 0,
        rejectedBatches: e?.rejectedBatches ?? 0,
        ...(e?.lastError ? { lastError: e.lastError } : {}),
      },
    };
  }

  /** Everything measured since the last export as request bodies (empty when nothing happened). */
  takeBatches(): string[] {
    this.scoreWindows();
    this.dirty = false;
    const latency = this.latency.takePending();
    const windows = this.pendingWindows;
    this.pendingWindows = [];
    const metrics = encodeMetrics({ latency, windows, dropped: this.exporter?.takeDrops() ?? 0, endMs: Date.now() });
    if (metrics.length === 0) return [];
    return packRequests(this.resource(), metrics, MAX_BATCH_BYTES);
  }

  /** Stores (or refreshes) the draft of the next batch; it is sent only if this session stops refreshing it. */
  private async checkpoint(): Promise<void> {
    const e = this.exporter;
    if (!e || !this.dirty) return;
    this.dirty = false;
    this.scoreWindows();
    const metrics = encodeMetrics({ latency: this.latency.peekPending(), windows: this.pendingWindows, dropped: 0, endMs: Date.now() });
    const bodies = metrics.length > 0 ? packRequests(this.resource(), metrics, MAX_BATCH_BYTES) : [];
    this.draftIds = await e.enqueue(bodies, this.draftIds, Date.now() + DRAFT_HOLD_MS);
  }

  async flush(opts: { keepalive?: boolean } = {}): Promise<FlushResult> {
    const e = this.exporter;
    if (!e) return { sent: 0, queued: 0, dropped: 0 };
    await this.serial(async () => {
      const drafts = this.draftIds;
      this.draftIds = [];
      await e.enqueue(this.takeBatches(), drafts); // the draft becomes this batch (same id)
    });
    const r = await e.deliver(opts);
    return { sent: r.sent, queued: r.queued, dropped: e.droppedBatches };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.interval !== undefined) clearInterval(this.interval);
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
    this.unwatch?.();
    // What cannot go within a few seconds stays queued (durably in browsers) for a later session.
    await Promise.race([this.flush().catch(() => undefined), new Promise((r) => setTimeout(r, RELEASE_FLUSH_WAIT_MS))]);
    this.exporter?.close();
  }

  private resource(): ReturnType<typeof attributes> {
    const b = this.ctx.backend();
    return attributes({
      [ATTR.serviceName]: this.options.serviceName ?? TELEMETRY_DEFAULTS.serviceName,
      [ATTR.modelName]: this.ctx.modelName ?? this.options.modelName ?? 'unknown',
      [ATTR.modelVersion]: this.ctx.modelVersion ?? this.options.modelVersion ?? 'unknown',
      [ATTR.backend]: b.name,
      [ATTR.deviceClass]: deviceClass(b.name, b.adapter),
      [ATTR.adapter]: b.adapter.slice(0, 96),
      [ATTR.sdkVersion]: '0.1.0',
    });
  }
}
