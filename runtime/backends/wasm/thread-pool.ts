// A pool of workers over the wasm backend's shared memory (the threads build). Each worker runs the
// same module with a stack of its own (thread-worker-loop.ts); a GEMM is split into parts by whole
// panels or whole row tiles (thread-job.ts), published on a control block in the shared memory and
// announced through Atomics.notify. Parts are claimed, not assigned: the calling thread and every
// awake worker take the next unclaimed part (thread-job.ts claimPart) until none is left, and the
// call returns when every part is done. A worker still asleep costs nothing: the caller does its
// parts. (Assigning part i to thread i made every call wait for the slowest worker to wake: 6-16 ms
// per split on a loaded machine, docs/decisions.md chromium-bench.)
import { fail, KilnError } from '../../../core/errors.ts';
import { SplitChooser } from './split-choice.ts';
import type { PoolTrace } from './thread-trace.ts'; // a type only: the trace's code stays out of the bundle (bench-only)
import { TOUCH_BATCH_PAGES, type PageToucher } from './first-touch.ts';
import { callGemm, claimedPart, claimPart, claimWord, CONTROL_BYTES, gemmPart, JobKind, MAX_ROW_PARTS, PANEL_WIDTH, partCount, partsUnclaimed, ROW_TILE, rowsPart, Slot, Split, writeGemmArgs, writeRowsArgs, type GemmCall, type GemmExport, type RowsCall, type ThreadInit, type ThreadReply } from './thread-job.ts';

/** One started worker, whatever the platform (Node worker_threads, a browser module Worker). */
export interface ThreadHandle {
  /** sends a pool's init; resolves with the worker's reply to it, or rejects when the worker fails or dies first */
  start(init: ThreadInit): Promise<ThreadReply>;
  /** stops the worker; resolves once it is gone */
  terminate(): Promise<void>;
}

/**
 * Starts one worker. `parkKey`: workers of spawners with the same key run the same script and serve
 * one pool after another (thread-worker-loop.ts returns at a pool's exit job and takes the next
 * init), so a released pool parks them for the next pool instead of terminating them.
 */
export type ThreadSpawner = (() => ThreadHandle | Promise<ThreadHandle>) & { readonly parkKey?: string };

/**
 * Below this many multiply-adds a GEMM stays on the calling thread: waking a worker and waiting for
 * it costs more than the work. Measured (bench/node/wasm-threads-bench.ts, docs/decisions.md): 2
 * threads lost at 64^3 (~12 us of work) in 6 of 7 runs and won at 128^3 in 4 of 7.
 */
export const MIN_PARALLEL_MACS = 128 * 128 * 128;

/**
 * From this many multiply-adds up a call splits without asking the split choice (split-choice.ts):
 * ~4 ms on one thread, where a split that works saves ~2 ms and one that stalls (the worker late or
 * off its core) costs little more than one thread, since the caller claims every part still
 * unclaimed. Timed trials misjudged such calls in the bench page: conv3x3-64x64-56 (116 M) chose one
 * thread in one full run of four (0 pool dispatches per run) while it splits 1.7x in Node.
 */
export const ALWAYS_SPLIT_MACS = 64 * 1024 * 1024;

/**
 * How long an idle worker polls for the next job before it sleeps (Atomics.wait), as onnxruntime's
 * workers spin before they sleep. Measured in bench/node/wasm-pool-bench.ts (docs/decisions.md, pool-claim).
 */
export const WORKER_SPIN_MICROS = 0;

let live = 0;
const drained: (() => void)[] = [];

/**
 * How long parked workers wait for the next pool before they are terminated. Starting a worker is
 * most of a threaded session's creation (Node: 57 of 62 ms for a one-node model on this machine; the
 * module's instantiation in a parked worker takes ~1 ms), and onnxruntime-web keeps its threads for the
 * page's life; parking keeps them only while sessions come and go, not for good.
 */
export const PARK_MILLIS = 30_000;
/** At most this many workers wait parked (the rest of a bigger pool are terminated at its release). */
export const MAX_PARKED = 16;
const parked = new Map<string, ThreadHandle[]>();
let parkTimer: ReturnType<typeof setTimeout> | undefined;

/** Pool workers started and not yet gone, parked ones included, in this thread (tests check it returns to 0). */
export function liveThreadWorkers(): number {
  return live;
}

/** Workers parked between pools, in this thread. */
export function parkedThreadWorkers(): number {
  let n = 0;
  for (const list of parked.values()) n += list.length;
  return n;
}

/** Terminates every parked worker now (what the idle timer does after PARK_MILLIS); resolves once they are gone. */
export function terminateParkedThreadWorkers(): Promise<void> {
  if (parkTimer !== undefined) clearTimeout(parkTimer);
  parkTimer = undefined;
  const all = [...parked.values()].flat();
  parked.clear();
  return Promise.all(all.map((w) => w.terminate().finally(workerGone))).then(() => undefined);
}

function park(key: string, workers: readonly ThreadHandle[]): Promise<void> {
  const list = parked.get(key) ?? [];
  parked.set(key, list);
  const room = Math.max(0, MAX_PARKED - parkedThreadWorkers());
  list.push(...workers.slice(0, room));
  if (parkTimer !== undefined) clearTimeout(parkTimer);
  parkTimer = setTimeout(() => void terminateParkedThreadWorkers(), PARK_MILLIS);
  (parkTimer as { unref?: () => void }).unref?.(); // Node: parked workers must not keep the process alive
  return Promise.all(workers.slice(room).map((w) => w.terminate().finally(workerGone))).then(() => undefined);
}

/** A parked worker of this spawner's kind, or a new one. */
async function takeOrSpawn(spawn: ThreadSpawner): Promise<ThreadHandle> {
  const reused = spawn.parkKey === undefined ? undefined : parked.get(spawn.parkKey)?.pop();
  if (reused) return reused;
  const w = await spawn();
  live++;
  return w;
}

/** Resolves once every pool worker this thread started is gone. */
export function whenNoThreadWorkers(): Promise<void> {
  return live === 0 ? Promise.resolve() : new Promise((resolve) => drained.push(resolve));
}

function workerGone(): void {
  live--;
  if (live === 0) for (const r of drained.splice(0)) r();
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly f32: Float32Array;
  private released = false;
  /** the last job's generation (the claim word's top byte) */
  private generation = 0;
  /** GEMMs split across threads so far (tests check that a case really ran in parallel) */
  parallelCalls = 0;
  /** row-parallel calls (attention) split across threads so far */
  parallelRowCalls = 0;
  /** the current run's fresh output arrays (first-touch.ts), set by the backend for each run: split calls touch them while the workers take parts */
  touch: PageToucher | undefined;
  /** ms the calling thread spent touching pages in the current split call, before it took parts */
  private touchedMs = 0;

  private constructor(
    memory: WebAssembly.Memory,
    control: number,
    private readonly workers: readonly ThreadHandle[],
    private readonly gemmExport: GemmExport,
    /** false on a browser's main thread, where Atomics.wait throws: the caller spins instead */
    private readonly canBlock: boolean,
    private readonly minParallelMacs: number,
    private readonly trace: PoolTrace | undefined,
    /** per call shape: split or not, by timing both, on its first calls and now and then after (split-choice.ts); undefined: always split */
    private readonly chooser: SplitChooser | undefined,
    /** where the workers park at release (ThreadSpawner.parkKey); undefined: they are terminated */
    private readonly parkKey: string | undefined,
  ) {
    this.ctl = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
    this.f32 = new Float32Array(memory.buffer, control, CONTROL_BYTES / 4);
  }

  /** Threads that share the work: the workers and the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `stackTops.length` workers over `memory` (shared). Rejects, with every started worker
   * terminated, when one fails to start.
   */
  static async start(spawn: ThreadSpawner, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, stackTops: readonly number[], gemmExport: GemmExport, minParallelMacs = MIN_PARALLEL_MACS, spinMicros = WORKER_SPIN_MICROS, trace?: PoolTrace, measureSplits = false): Promise<ThreadPool> {
    new Int32Array(memory.buffer, control, CONTROL_BYTES / 4).fill(0);
    const workers: ThreadHandle[] = [];
    const replies: Promise<ThreadReply>[] = [];
    try {
      for (const [i, stackTop] of stackTops.entries()) {
        const w = await takeOrSpawn(spawn);
        workers.push(w);
        const reply = w.start({ module, memory, control, index: i + 1, stackTop, spinMicros, ...(trace ? { trace: trace.buffer } : {}) });
        reply.catch(() => undefined); // read below, after every worker has its init
        replies.push(reply);
      }
      const failed = (await Promise.all(replies)).find((r) => r.kind === 'failed');
      if (failed?.kind === 'failed') throw new Error(failed.message);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate().finally(workerGone)));
      throw e;
    }
    let canBlock = true;
    try {
      Atomics.wait(new Int32Array(memory.buffer, control, CONTROL_BYTES / 4), Slot.Probe, 1, 0); // 'not-equal' at once where blocking is allowed
    } catch {
      canBlock = false;
    }
    return new ThreadPool(memory, control, workers, gemmExport, canBlock, minParallelMacs, trace, measureSplits ? new SplitChooser() : undefined, spawn.parkKey);
  }

  /** Parts run by the workers so far (the rest ran on the calling thread). */
  get workerParts(): number {
    return Atomics.load(this.ctl, Slot.WorkerParts);
  }

  /**
   * A row-parallel export (thread-job.ts ROW_EXPORTS) split across the pool by contiguous row
   * ranges; `direct` runs a part's argument list on this thread. `work` (multiply-adds) below
   * minParallelMacs runs on this thread alone.
   */
  rows(c: RowsCall, work: number, direct: (args: number[]) => void): void {
    if (this.released) fail('RELEASED', 'wasm backend: its thread pool was released');
    const parts = partCount(c.rows, this.threads, work, MAX_ROW_PARTS); // each part has its own scratch region: at most MAX_ROW_PARTS
    const alone = (): void => {
      const all = rowsPart(c, 1, 0);
      if (all) direct(all);
    };
    if (parts <= 1 || work < this.minParallelMacs) return alone();
    this.choose(`r${c.fn}:${c.rows}:${work}`, work, () => {
      this.parallelRowCalls++;
      writeRowsArgs(this.ctl, this.f32, c);
      this.run(JobKind.Rows, parts, (part) => {
        const args = rowsPart(c, parts, part);
        if (args) direct(args);
      }, 'a row-parallel kernel');
    }, alone);
  }

  /** kiln_gemm_f32 split across the pool; arguments are checked by the caller. */
  gemm(g: GemmCall): void {
    if (this.released) fail('RELEASED', 'wasm backend: its thread pool was released');
    const panels = Math.ceil(g.n / PANEL_WIDTH);
    const rowTiles = Math.ceil(g.m / ROW_TILE);
    const split = rowTiles >= panels ? Split.Rows : Split.Columns;
    const macs = g.m * g.n * g.k;
    const parts = partCount(split === Split.Rows ? rowTiles : panels, this.threads, macs);
    const alone = (): void => callGemm(this.gemmExport, g);
    if (parts <= 1 || macs < this.minParallelMacs) return alone();
    this.choose(`g${g.m}x${g.n}x${g.k}`, macs, () => {
      this.parallelCalls++;
      writeGemmArgs(this.ctl, this.f32, g);
      this.ctl[Slot.SplitBy] = split;
      this.run(JobKind.Gemm, parts, (part) => {
        const own = gemmPart(g, split, parts, part);
        if (own) callGemm(this.gemmExport, own);
      }, 'kiln_gemm_f32');
    }, alone);
  }

  /** Runs `split` or `alone` as the chooser says for this call shape (`work` multiply-adds), and tells it the time (two clock reads per call). */
  private choose(key: string, work: number, split: () => void, alone: () => void): void {
    const c = this.chooser;
    if (!c || work >= ALWAYS_SPLIT_MACS) return split();
    const way = c.way(key);
    this.touchedMs = 0;
    const t0 = performance.now();
    if (way) split();
    else alone();
    // Pages touched here are touched once per run whichever way the call goes (later, by the copy out,
    // when it runs alone): what the split is judged on is what it costs beyond them.
    c.record(key, way, performance.now() - t0 - this.touchedMs);
  }

  /**
   * Publishes a job whose arguments are written, takes parts until none is left, then waits until
   * the parts workers took are done. An error in a part (here or in a worker) fails the call only
   * after every part is counted, so the next call never overwrites arguments a worker still reads.
   */
  private run(kind: number, parts: number, runPart: (part: number) => void, what: string): void {
    const ctl = this.ctl;
    ctl[Slot.Kind] = kind;
    ctl[Slot.Parts] = parts;
    Atomics.store(ctl, Slot.Done, 0);
    const traced = this.trace?.begin() ?? -1;
    this.generation = (this.generation + 1) & 0xff;
    Atomics.store(ctl, Slot.Claim, claimWord(this.generation, parts, 0)); // a seq-cst write: the plain stores above are visible to whoever claims
    if (Atomics.load(ctl, Slot.Sleepers) > 0) Atomics.notify(ctl, Slot.Claim); // spinning workers see the word change themselves

    const touch = this.touch;
    if (touch?.pending) {
      // The workers take parts while this thread writes the run's fresh output pages; it claims what
      // they leave. A worker that is late or has no core costs nothing: the pages are touched once
      // either way, and every part still unclaimed is this thread's.
      const t0 = performance.now();
      while (touch.pending && partsUnclaimed(ctl)) touch.touch(TOUCH_BATCH_PAGES);
      this.touchedMs = performance.now() - t0;
    }
    let mine = 0;
    let error: unknown;
    for (let claim = claimPart(ctl); claim >= 0; claim = claimPart(ctl)) {
      mine++;
      if (error !== undefined) continue; // counted, not run: the call fails anyway
      try {
        runPart(claimedPart(claim));
      } catch (e) {
        error = e ?? new Error('a part threw');
      }
    }
    this.trace?.callerEnd(traced, mine);
    for (let done = Atomics.add(ctl, Slot.Done, mine) + mine; done !== parts; done = Atomics.load(ctl, Slot.Done)) {
      if (touch?.pending) touch.touch(1); // waiting for a worker's last part anyway
      else if (this.canBlock) Atomics.wait(ctl, Slot.Done, done);
    }
    this.trace?.done(traced);
    const workerFailed = Atomics.exchange(ctl, Slot.Failed, 0) !== 0;
    if (error instanceof KilnError) throw error;
    if (error !== undefined) fail('INTERNAL', `wasm backend: ${what} trapped on the calling thread: ${error instanceof Error ? error.message : String(error)}`);
    if (workerFailed) fail('INTERNAL', `wasm backend: a pool worker trapped in ${what}`);
  }

  /**
   * Tells the workers to leave their loop, then parks them for the next pool (terminated after
   * PARK_MILLIS unused) or, without a park key, terminates them. Idempotent. A parked worker may
   * still be leaving this pool's loop: the next pool's init waits in its message queue until it has,
   * and it keeps nothing of this pool (its instance and views were locals of the loop).
   */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    Atomics.store(this.ctl, Slot.Kind, JobKind.Exit);
    this.generation = (this.generation + 1) & 0xff;
    Atomics.store(this.ctl, Slot.Claim, claimWord(this.generation, 0, 0)); // no parts: a worker sees the word change, then the exit
    Atomics.notify(this.ctl, Slot.Claim);
    if (this.parkKey !== undefined) return park(this.parkKey, this.workers);
    return Promise.all(this.workers.map((w) => w.terminate().finally(workerGone))).then(() => undefined);
  }
}
