// The CPU time of each task on the pages' main threads while something runs, from a Chromium trace.
// Thread time (the trace's `tdur`), not wall time: on a loaded 2-core machine the OS can pause the
// page's thread for 80 ms in a task that used 2 ms of CPU, and a long-task observer (wall time)
// then reports work the page never did. What a page must not do is the work itself.
import type { Browser, Page } from 'playwright-core';

interface TraceEvent {
  readonly ph: string;
  readonly name: string;
  readonly pid: number;
  readonly tid: number;
  readonly dur?: number;
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

export interface MainThreadCpu<T> {
  readonly result: T;
  /** CPU milliseconds of each top-level task on a renderer's main thread, every renderer */
  readonly taskCpuMs: number[];
  readonly totalCpuMs: number;
  readonly maxCpuMs: number;
}

/** Runs `work` with tracing on and returns its result with the main threads' task CPU times. */
export async function mainThreadCpu<T>(browser: Browser, page: Page, work: () => Promise<T>): Promise<MainThreadCpu<T>> {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  let result: T;
  try {
    result = await work();
  } catch (e) {
    await browser.stopTracing().catch(() => undefined);
    throw e;
  }
  const trace = await browser.stopTracing();
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const mainThreads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && mainThreads.has(`${e.pid}:${e.tid}`));
  if (tasks.length > 0 && tasks.every((e) => e.tdur === undefined)) throw new Error('the trace has no thread times (tdur): this Chromium cannot measure CPU per task');
  const taskCpuMs = tasks.map((e) => (e.tdur ?? 0) / 1000);
  return { result, taskCpuMs, totalCpuMs: taskCpuMs.reduce((a, b) => a + b, 0), maxCpuMs: Math.max(0, ...taskCpuMs) };
}
