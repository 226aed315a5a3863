// The body of a pool worker (thread-worker-node.ts, thread-worker-browser.ts start it): instantiate
// the threads build over the shared memory with a stack of its own, say ready, then serve jobs from
// the control block until told to exit. Jobs arrive through Atomics.wait/notify, not messages: a
// postMessage per kernel call costs more than a small GEMM.
import { callGemm, CONTROL_BYTES, gemmPart, JobKind, readGemmArgs, readRowsArgs, ROW_EXPORTS, rowsPart, Slot, type GemmExport, type ThreadInit, type ThreadReply } from './thread-job.ts';

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
  reply({ kind: 'ready' });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, Slot.Generation, seen);
    const generation = Atomics.load(ctl, Slot.Generation);
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(ctl, Slot.Kind) === JobKind.Exit) return;
    try {
      if (Atomics.load(ctl, Slot.Kind) === JobKind.Rows) {
        const call = readRowsArgs(ctl, f32);
        const args = rowsPart(call, Atomics.load(ctl, Slot.Parts), init.index);
        if (args) rowFns[call.fn]!(...args);
      } else {
        const part = gemmPart(readGemmArgs(ctl, f32), Atomics.load(ctl, Slot.SplitBy) === 1 ? 1 : 0, Atomics.load(ctl, Slot.Parts), init.index);
        if (part) callGemm(gemm, part);
      }
    } catch {
      Atomics.store(ctl, Slot.Failed, 1); // still counted done below, so the caller never hangs
    }
    if (Atomics.sub(ctl, Slot.Pending, 1) === 1) Atomics.notify(ctl, Slot.Pending);
  }
}
