// Bench-only timing of the pool's split calls (bench/pool-probe): where a split call's time goes in
// a page, where the Node measurements did not tell (docs/bench.md, "Threads in Chromium"). The
// caller and each worker write wall-clock times (performance.timeOrigin + now(): comparable across a
// page and its workers) into a SharedArrayBuffer the pool gets at start; without one nothing is
// recorded and the pool pays one undefined check per call and per part. The pool imports only the
// type: this code is in the pool worker's file and the bench, not in the library's bundle.

/** Records kept (a ring: call i uses record i % TRACE_RECORDS). */
export const TRACE_RECORDS = 512;
/** f64 fields per record: the caller's 4, then 4 per worker (workers 1..3 traced). */
export const TRACE_FIELDS = 16;
const HEADER_BYTES = 64;

/** Fields of a record; a worker w's fields start at Worker + (w - 1) * 4. */
export const TraceField = {
  /** the caller published the job */
  Post: 0,
  /** the caller finished the last part it claimed */
  CallerEnd: 1,
  /** every part was done: the call returns */
  Done: 2,
  /** parts the caller ran */
  CallerParts: 3,
  Worker: 4,
} as const;
/** Per worker: when its loop saw the job (back from Atomics.wait or its spin), its first claim, its last part's end, its part count. */
export const WorkerTraceField = { Wake: 0, FirstClaim: 1, End: 2, Parts: 3 } as const;
export const TRACED_WORKERS = (TRACE_FIELDS - TraceField.Worker) / 4;

export function newPoolTrace(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + TRACE_RECORDS * TRACE_FIELDS * 8);
}

export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The caller's and the workers' view of one trace buffer. */
export class PoolTrace {
  private readonly header: Int32Array;
  private readonly records: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.records = new Float64Array(buffer, HEADER_BYTES, TRACE_RECORDS * TRACE_FIELDS);
  }

  /** Calls traced so far. */
  get calls(): number {
    return Atomics.load(this.header, 0);
  }

  /** Caller: a new record for the job about to be published (before its claim word is stored). */
  begin(): number {
    const at = (Atomics.add(this.header, 0, 1) % TRACE_RECORDS) * TRACE_FIELDS;
    this.records.fill(0, at, at + TRACE_FIELDS);
    this.records[at + TraceField.Post] = traceNow();
    return at;
  }

  /** Caller: its parts are done (parts it ran), then the whole call. */
  callerEnd(at: number, parts: number): void {
    this.records[at + TraceField.CallerEnd] = traceNow();
    this.records[at + TraceField.CallerParts] = parts;
  }

  done(at: number): void {
    this.records[at + TraceField.Done] = traceNow();
  }

  /** Worker `index` (1-based) claimed a part of the current job at `claimedAt`, having seen it at `wokeAt`. */
  workerClaimed(index: number, wokeAt: number, claimedAt: number): number {
    if (index > TRACED_WORKERS) return -1;
    const at = ((Atomics.load(this.header, 0) - 1) % TRACE_RECORDS) * TRACE_FIELDS + TraceField.Worker + (index - 1) * 4;
    if (this.records[at + WorkerTraceField.Wake] === 0) this.records[at + WorkerTraceField.Wake] = wokeAt;
    if (this.records[at + WorkerTraceField.FirstClaim] === 0) this.records[at + WorkerTraceField.FirstClaim] = claimedAt;
    return at;
  }

  workerPartDone(at: number): void {
    if (at < 0) return;
    this.records[at + WorkerTraceField.End] = traceNow();
    this.records[at + WorkerTraceField.Parts]! += 1;
  }

  /** Record i (0 = the first call traced) as a copy. */
  record(i: number): Float64Array {
    const at = (i % TRACE_RECORDS) * TRACE_FIELDS;
    return this.records.slice(at, at + TRACE_FIELDS);
  }
}
