// What a backend reports about one run, for the latency telemetry. Filled only when a session
// asks for it (telemetry on), so runs without telemetry pay nothing.
export interface RunTiming {
  /** performance.now() when the run's first GPU submit happened */
  firstSubmitAt?: number;
  /** GPU execution: timestamp-query time when the device has it, else submit -> work done */
  gpuMs: number;
  /** work done -> outputs copied out of mapped staging buffers */
  readbackMs: number;
  /** how gpuMs was measured */
  gpuSource?: 'timestamp-query' | 'submit-to-done';
}

export const newRunTiming = (): RunTiming => ({ gpuMs: 0, readbackMs: 0 });

/** Times from performance.now() (workers and Node have it too). */
export const now = (): number => performance.now();
