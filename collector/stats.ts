// The collector's own counters, exported on /metrics beside the telemetry it stores.

/** Upper bounds (seconds) of the ingest-duration histogram exported to Prometheus. */
export const INGEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export class CollectorStats {
  readonly startedMs: number;
  /** requests to /v1/metrics by HTTP status */
  readonly ingestByStatus = new Map<number, number>();
  batchesStored = 0;
  batchesDuplicate = 0;
  pointsStored = 0;
  /** valid points not stored: dated outside the accepted window, or of new series beyond the caps */
  pointsRefusedTime = 0;
  pointsRefusedSeries = 0;
  forwarded = 0;
  forwardFailures = 0;
  forwardDropped = 0;
  /** outbox batches dropped unsent: over the byte cap (oldest first), or older than the age cap */
  outboxDroppedFull = 0;
  outboxDroppedExpired = 0;
  /** forwarder steps that failed on the database (retried later) */
  forwardDbErrors = 0;
  readonly ingestBucketCounts: number[] = INGEST_BUCKETS.map(() => 0);
  ingestCount = 0;
  ingestSumSeconds = 0;

  constructor(nowMs: number) {
    this.startedMs = nowMs;
  }

  recordIngest(status: number, seconds: number): void {
    this.ingestByStatus.set(status, (this.ingestByStatus.get(status) ?? 0) + 1);
    this.ingestCount++;
    this.ingestSumSeconds += seconds;
    INGEST_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.ingestBucketCounts[i]!++;
    });
  }
}
