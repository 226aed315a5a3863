// Which runtime started which Workers, so the report shows that the threaded rows really ran on
// threads: onnxruntime-web's pthreads are Workers named 'em-pthread', Kiln's pool workers
// 'kiln-wasm-thread'. A row's thread count alone is what the runtime was asked for (onnxruntime-web
// falls back to 1 thread quietly, apart from a console warning, where SharedArrayBuffer is missing).
// The page wraps the Worker constructor and charges each Worker to whichever runtime is working, as
// gpu-memory.ts does with GPU buffers: runtimes run one at a time (each call awaited).

/** Workers started per runtime, by the name they were given ('' when unnamed). */
export type WorkerCensus = Record<string, Record<string, number>>;

const census: WorkerCensus = {};
let current: string | undefined;
let installed = false;

function install(): boolean {
  const g = globalThis as { Worker?: typeof Worker };
  const Original = g.Worker;
  if (!Original) return false;
  g.Worker = class CountedWorker extends Original {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      const owner = census[current ?? 'outside any runtime'] ??= {};
      const name = options?.name ?? '';
      owner[name] = (owner[name] ?? 0) + 1;
    }
  };
  return true;
}

/** Runs fn with the Workers started meanwhile charged to key (a runtime name). */
export async function countWorkers<T>(key: string, fn: () => Promise<T>): Promise<T> {
  installed ||= install();
  const before = current;
  current = key;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/** What was counted so far, or undefined where there is no Worker constructor (Node). */
export function workerCensus(): WorkerCensus | undefined {
  return installed ? structuredClone(census) : undefined;
}
