// Latency and run counts of one session: sketches over the session's life (for session.telemetry)
// and since the last export (delta batches, so each batch stands alone and retries never double
// count at a collector that deduplicates by batch id).
import type { ColdStartPhase, Percentiles, RunPhase } from '../telemetry-api.ts';
import { ExpHistogram, type ExpHistogramData } from './exp-histogram.ts';
import type { RunTiming } from './run-timing.ts';

export const RUN_PHASES: readonly RunPhase[] = ['total', 'queue', 'gpu', 'readback'];

/** Since the last export; taken (and reset) by `takePending`. */
export interface PendingLatency {
  readonly startMs: number;
  readonly runs: ReadonlyMap<RunPhase, ExpHistogramData>;
  readonly coldStart: Readonly<Partial<Record<ColdStartPhase, number>>>;
  readonly runCount: number;
  readonly errors: ReadonlyMap<string, number>;
}

function percentiles(h: ExpHistogram): Percentiles | undefined {
  if (h.count === 0) return undefined;
  return { count: h.count, p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99), min: h.min, max: h.max, mean: h.mean };
}

export class LatencyRecorder {
  /** everything already taken for export; the session's life = this + pending (merged on demand) */
  private readonly exported = new Map<RunPhase, ExpHistogram>(RUN_PHASES.map((p) => [p, new ExpHistogram()]));
  /** since the last export: the only sketches a run writes to (one record per phase) */
  private pending = new Map<RunPhase, ExpHistogram>();
  private coldStart: Partial<Record<ColdStartPhase, number>> = {};
  private coldPending = false;
  private runCount = 0;
  private pendingRuns = 0;
  private errorCount = 0;
  private pendingErrors = new Map<string, number>();
  private pendingSince = Date.now();
  /** how the most recent run's GPU phase was measured */
  private gpuTiming: RunTiming['gpuSource'];

  private add(phase: RunPhase, ms: number): void {
    if (!(ms >= 0)) return;
    let h = this.pending.get(phase);
    if (!h) this.pending.set(phase, (h = new ExpHistogram()));
    h.record(ms);
  }

  /** One finished run: when run() was called, when its work started, when it ended. */
  recordRun(calledAt: number, startedAt: number, endedAt: number, timing: RunTiming | undefined): void {
    this.runCount++;
    this.pendingRuns++;
    this.add('total', endedAt - calledAt);
    this.add('queue', (timing?.firstSubmitAt ?? startedAt) - calledAt);
    if (timing?.firstSubmitAt !== undefined) {
      this.gpuTiming = timing.gpuSource;
      this.add('gpu', timing.gpuMs);
      this.add('readback', timing.readbackMs);
    }
  }

  recordError(code: string): void {
    this.errorCount++;
    this.pendingErrors.set(code, (this.pendingErrors.get(code) ?? 0) + 1);
  }

  /** Cold start phases (each reported once per session). */
  recordColdStart(phases: Partial<Record<ColdStartPhase, number>>): void {
    this.coldStart = { ...this.coldStart, ...phases };
    this.coldPending = true;
  }

  get runs(): number {
    return this.runCount;
  }

  get errors(): number {
    return this.errorCount;
  }

  summary(): { latency: Partial<Record<RunPhase, Percentiles>>; coldStart: Partial<Record<ColdStartPhase, number>>; gpuTiming: RunTiming['gpuSource'] } {
    const latency: Partial<Record<RunPhase, Percentiles>> = {};
    for (const [phase, done] of this.exported) {
      const h = ExpHistogram.fromData(done.toData());
      const open = this.pending.get(phase);
      if (open) h.merge(open);
      const p = percentiles(h);
      if (p) latency[phase] = p;
    }
    return { latency, coldStart: { ...this.coldStart }, gpuTiming: this.gpuTiming };
  }

  /** What takePending would return, without taking it (drafts of the next batch). */
  peekPending(): PendingLatency {
    return {
      startMs: this.pendingSince,
      runs: new Map([...this.pending].map(([k, h]) => [k, h.toData()])),
      coldStart: this.coldPending ? { ...this.coldStart } : {},
      runCount: this.pendingRuns,
      errors: new Map(this.pendingErrors),
    };
  }

  takePending(): PendingLatency {
    for (const [phase, h] of this.pending) this.exported.get(phase)!.merge(h);
    const out: PendingLatency = {
      startMs: this.pendingSince,
      runs: new Map([...this.pending].map(([k, h]) => [k, h.toData()])),
      coldStart: this.coldPending ? { ...this.coldStart } : {},
      runCount: this.pendingRuns,
      errors: this.pendingErrors,
    };
    this.pending = new Map();
    this.coldPending = false;
    this.pendingRuns = 0;
    this.pendingErrors = new Map();
    this.pendingSince = Date.now();
    return out;
  }
}
