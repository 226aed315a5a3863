// The session's count of WebGPU pipeline compiles (session.pipelineCompiles), in a file of its own
// so the public declarations that name it need no WebGPU types.
/** Pipelines compiled ahead (from a plan of the graph's shapes while the weights stream) and on demand. */
export interface PipelineCounts {
  /** compiles started by prewarm() */
  readonly ahead: number;
  /** compiles started by get(): a plan asked for a pipeline nobody compiled ahead */
  readonly onDemand: number;
  /** pipelines compiled ahead that a plan then asked for */
  readonly claimed: number;
  /** pipelines compiled ahead that the first plan did not ask for (a wrong guess), dropped */
  readonly dropped: number;
  /** compiles not yet finished (or failed) */
  readonly pending: number;
  /** pipelines asked for (ahead or by a plan) that another session on the shared device had compiled: no compile */
  readonly reused: number;
}
