// The bench scripts' sampling loop: calls `run` back to back for `windowMs` of wall time and returns
// the mean milliseconds per call (peers are interleaved by the callers, window by window).
export async function msPerCall(run: () => Promise<unknown>, windowMs: number): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < windowMs) {
    await run();
    calls++;
    t = performance.now();
  }
  return (t - t0) / calls;
}

/**
 * CPU milliseconds per call of a synchronous `run` called back to back for `windowMs` of wall time
 * (process.cpuUsage: this process's own time, less disturbed than wall time on a shared machine;
 * 1-thread work only: a pool's workers are counted too).
 */
export function cpuMsPerCall(run: () => void, windowMs: number): number {
  let calls = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    run();
    calls++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / calls;
}

/** cpuMsPerCall for an asynchronous `run`, awaited call by call. */
export async function cpuMsPerCallAsync(run: () => Promise<unknown>, windowMs: number): Promise<number> {
  let calls = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    await run();
    calls++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / calls;
}
