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
