// The body of a pool worker (thread-worker-node.ts, thread-worker-browser.ts start it): instantiate
// the threads build over the shared memory with a stack of its own, say ready, then serve jobs from
// the control block until told to exit. Jobs arrive through Atomics.wait/notify, not messages: a
// postMessage per kernel call costs more than a small GEMM. A worker takes parts through the claim
// word like the caller (thread-job.ts claimPart) until none is left, so one that wakes late takes
// whatever is still unclaimed, or nothing.
import { PoolTrace, traceNow } from './thread-trace.ts';
import { callGemm, claimedPart, claimParts, claimPart, CONTROL_BYTES, gemmPart, JobKind, readGemmArgs, readRowsArgs, ROW_EXPORTS, rowsPart, Slot, type GemmExport, type ThreadInit, type ThreadReply } from './thread-job.ts';

export function runThreadWorker(init: ThreadInit, reply: (r: ThreadReply) => void): void {
  let gemm: GemmExport;
  let rowFns: ((...args: number[]) => unknown)[];
  try {
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    const sp = instance.exports['__stack_pointer'];
    const f = instance.exports['kiln_gemm_f32'];
    if (!(sp instanceof WebAssembly.Global) || typeof f !== 'function') throw new Error('the threads build lacks __stack_pointer or kiln_gemm_f32');
    sp.value = init.stackTop; // the module's default stack is the calling thread's
    gemm = f as GemmExport; // checked to be a function just above
    rowFns = ROW_EXPORTS.map((name) => {
      const g = instance.exports[name];
      if (typeof g !== 'function') throw new Error(`the threads build lacks ${name}`);
      return g as (...args: number[]) => unknown; // checked to be a function just above
    });
  } catch (e) {
    reply({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  const ctl = new Int32Array(init.memory.buffer, init.control, CONTROL_BYTES / 4);
  const f32 = new Float32Array(init.memory.buffer, init.control, CONTROL_BYTES / 4);
  /** Runs part `part` of the published job (claimed by this worker, so its arguments stay put). */
  const runPart = (part: number, parts: number): void => {
    if (Atomics.load(ctl, Slot.Kind) === JobKind.Rows) {
      const call = readRowsArgs(ctl, f32);
      const args = rowsPart(call, parts, part);
      const rc = args ? rowFns[call.fn]!(...args) : undefined;
      if (rc !== undefined && rc !== 0) throw new Error(`${ROW_EXPORTS[call.fn]} refused its arguments (${String(rc)})`);
    } else {
      const g = gemmPart(readGemmArgs(ctl, f32), Atomics.load(ctl, Slot.SplitBy) === 1 ? 1 : 0, parts, part);
      if (g) callGemm(gemm, g);
    }
  };
  const trace = init.trace ? new PoolTrace(init.trace) : undefined;
  reply({ kind: 'ready' });
  for (;;) {
    const wokeAt = trace ? traceNow() : 0;
    const word = Atomics.load(ctl, Slot.Claim);
    if (Atomics.load(ctl, Slot.Kind) === JobKind.Exit) return;
    let took = false;
    for (let claim = claimPart(ctl); claim >= 0; claim = claimPart(ctl)) {
      took = true;
      const parts = claimParts(claim);
      const traced = trace ? trace.workerClaimed(init.index, wokeAt, traceNow()) : -1;
      try {
        runPart(claimedPart(claim), parts);
      } catch {
        Atomics.store(ctl, Slot.Failed, 1); // still counted done below, so the caller never hangs
      }
      Atomics.add(ctl, Slot.WorkerParts, 1);
      trace?.workerPartDone(traced);
      if (Atomics.add(ctl, Slot.Done, 1) + 1 === parts) Atomics.notify(ctl, Slot.Done);
    }
    if (took) continue; // the caller may have published the next job meanwhile: look again before sleeping
    if (init.spinMicros > 0 && spinWhile(ctl, word, init.spinMicros)) continue;
    // Counted before the wait: a caller that stores the next claim word and then reads 0 here is
    // ordered before this add, so the wait below sees the new word and returns at once.
    Atomics.add(ctl, Slot.Sleepers, 1);
    Atomics.wait(ctl, Slot.Claim, word);
    Atomics.sub(ctl, Slot.Sleepers, 1);
  }
}

/** Polls the claim word for up to `micros`; true when it changed (a new job, or the exit). */
function spinWhile(ctl: Int32Array, word: number, micros: number): boolean {
  const until = performance.now() + micros / 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctl, Slot.Claim) !== word) return true;
    if (performance.now() >= until) return false;
  }
}
