// A pool of workers over the wasm backend's shared memory (the threads build). Each worker runs the
// same module with a stack of its own (thread-worker-loop.ts); a GEMM is split into parts by whole
// panels or whole row tiles (thread-job.ts), the workers are woken through Atomics on a control
// block in the shared memory, the calling thread computes part 0, then waits for the others.
import { fail } from '../../../core/errors.ts';
import { callGemm, CONTROL_BYTES, gemmPart, JobKind, MAX_ROW_PARTS, PANEL_WIDTH, ROW_TILE, rowsPart, Slot, Split, writeGemmArgs, writeRowsArgs, type GemmCall, type GemmExport, type RowsCall, type ThreadInit, type ThreadReply } from './thread-job.ts';

/** One started worker, whatever the platform (Node worker_threads, a browser module Worker). */
export interface ThreadHandle {
  post(init: ThreadInit): void;
  /** the worker's first reply, or an Error when it fails to start */
  readonly started: Promise<ThreadReply>;
  /** stops the worker; resolves once it is gone */
  terminate(): Promise<void>;
}

export type ThreadSpawner = () => ThreadHandle | Promise<ThreadHandle>;

/**
 * Below this many multiply-adds a GEMM stays on the calling thread: waking a worker and waiting for
 * it costs more than the work. Measured (bench/node/wasm-threads-bench.ts, docs/decisions.md): 2
 * threads lost at 64^3 (~12 us of work) in 6 of 7 runs and won at 128^3 in 4 of 7.
 */
export const MIN_PARALLEL_MACS = 128 * 128 * 128;

let live = 0;
const drained: (() => void)[] = [];

/** Pool workers started and not yet gone, in this thread (tests check it returns to 0 after release). */
export function liveThreadWorkers(): number {
  return live;
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
  /** GEMMs split across threads so far (tests check that a case really ran in parallel) */
  parallelCalls = 0;
  /** row-parallel calls (attention) split across threads so far */
  parallelRowCalls = 0;

  private constructor(
    memory: WebAssembly.Memory,
    control: number,
    private readonly workers: readonly ThreadHandle[],
    private readonly gemmExport: GemmExport,
    /** false on a browser's main thread, where Atomics.wait throws: the caller spins instead */
    private readonly canBlock: boolean,
    private readonly minParallelMacs: number,
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
  static async start(spawn: ThreadSpawner, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, stackTops: readonly number[], gemmExport: GemmExport, minParallelMacs = MIN_PARALLEL_MACS): Promise<ThreadPool> {
    new Int32Array(memory.buffer, control, CONTROL_BYTES / 4).fill(0);
    const workers: ThreadHandle[] = [];
    try {
      for (const [i, stackTop] of stackTops.entries()) {
        const w = await spawn();
        live++;
        workers.push(w);
        w.post({ module, memory, control, index: i + 1, stackTop });
      }
      const replies = await Promise.all(workers.map((w) => w.started));
      const failed = replies.find((r) => r.kind === 'failed');
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
    return new ThreadPool(memory, control, workers, gemmExport, canBlock, minParallelMacs);
  }

  /**
   * A row-parallel export (thread-job.ts ROW_EXPORTS) split across the pool by contiguous row
   * ranges; `direct` runs a part's argument list on this thread. `work` (multiply-adds) below
   * minParallelMacs runs on this thread alone.
   */
  rows(c: RowsCall, work: number, direct: (args: number[]) => void): void {
    if (this.released) fail('RELEASED', 'wasm backend: its thread pool was released');
    const parts = Math.min(this.threads, MAX_ROW_PARTS, c.rows);
    if (parts <= 1 || work < this.minParallelMacs) {
      const all = rowsPart(c, 1, 0);
      if (all) direct(all);
      return;
    }
    this.parallelRowCalls++;
    const ctl = this.ctl;
    writeRowsArgs(ctl, this.f32, c);
    ctl[Slot.Kind] = JobKind.Rows;
    ctl[Slot.Parts] = parts;
    Atomics.store(ctl, Slot.Pending, this.workers.length);
    Atomics.add(ctl, Slot.Generation, 1); // a seq-cst write: the plain stores above are visible to whoever reads it
    Atomics.notify(ctl, Slot.Generation);
    const own = rowsPart(c, parts, 0);
    if (own) direct(own);
    for (let pending = Atomics.load(ctl, Slot.Pending); pending !== 0; pending = Atomics.load(ctl, Slot.Pending)) {
      if (this.canBlock) Atomics.wait(ctl, Slot.Pending, pending);
    }
    if (Atomics.exchange(ctl, Slot.Failed, 0) !== 0) fail('INTERNAL', 'wasm backend: a pool worker trapped in a row-parallel kernel');
  }

  /** kiln_gemm_f32 split across the pool; arguments are checked by the caller. */
  gemm(g: GemmCall): void {
    if (this.released) fail('RELEASED', 'wasm backend: its thread pool was released');
    const panels = Math.ceil(g.n / PANEL_WIDTH);
    const rowTiles = Math.ceil(g.m / ROW_TILE);
    const split = rowTiles >= panels ? Split.Rows : Split.Columns;
    const parts = Math.min(this.threads, split === Split.Rows ? rowTiles : panels);
    if (parts <= 1 || g.m * g.n * g.k < this.minParallelMacs) {
      callGemm(this.gemmExport, g);
      return;
    }
    this.parallelCalls++;
    const ctl = this.ctl;
    writeGemmArgs(ctl, this.f32, g);
    ctl[Slot.Kind] = JobKind.Gemm;
    ctl[Slot.Parts] = parts;
    ctl[Slot.SplitBy] = split;
    Atomics.store(ctl, Slot.Pending, this.workers.length);
    Atomics.add(ctl, Slot.Generation, 1); // a seq-cst write: the plain stores above are visible to whoever reads it
    Atomics.notify(ctl, Slot.Generation);
    const own = gemmPart(g, split, parts, 0);
    if (own) callGemm(this.gemmExport, own);
    for (let pending = Atomics.load(ctl, Slot.Pending); pending !== 0; pending = Atomics.load(ctl, Slot.Pending)) {
      if (this.canBlock) Atomics.wait(ctl, Slot.Pending, pending);
    }
    if (Atomics.exchange(ctl, Slot.Failed, 0) !== 0) fail('INTERNAL', 'wasm backend: a pool worker trapped in kiln_gemm_f32');
  }

  /** Tells the workers to leave their loop, then terminates them. Idempotent. */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    Atomics.store(this.ctl, Slot.Kind, JobKind.Exit);
    Atomics.add(this.ctl, Slot.Generation, 1);
    Atomics.notify(this.ctl, Slot.Generation);
    return Promise.all(this.workers.map((w) => w.terminate().finally(workerGone))).then(() => undefined);
  }
}
