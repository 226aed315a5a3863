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

// Kiln's pool wakes its workers with one Atomics.notify per parallel kernel call (thread-pool.ts), from
// the thread that runs the session: counting the page's notify calls per warm run gives the pool
// dispatches a run makes, the count that a 2-thread run pays a wake-up for. (The caller skips the
// notify while no worker sleeps: with workers that spin (spinMicros > 0) this undercounts.) (onnxruntime-web's
// pthreads wake through wasm's own atomic.notify instruction, which this does not see.)
const wakes = new Map<string, number>();
let wakeKey: string | undefined;
let notifyWrapped = false;

function wrapNotify(): void {
  const notify = Atomics.notify.bind(Atomics);
  const counted = (typedArray: Int32Array | BigInt64Array, index: number, count?: number): number => {
    if (wakeKey !== undefined) wakes.set(wakeKey, (wakes.get(wakeKey) ?? 0) + 1);
    return typedArray instanceof Int32Array ? notify(typedArray, index, count) : notify(typedArray, index, count);
  };
  Atomics.notify = counted;
  notifyWrapped = true;
}

/** Runs fn with the Atomics.notify calls made meanwhile counted under key. */
export async function countWakes<T>(key: string, fn: () => Promise<T>): Promise<T> {
  if (!notifyWrapped) wrapNotify();
  const before = wakeKey;
  wakeKey = key;
  try {
    return await fn();
  } finally {
    wakeKey = before;
  }
}

export const wakesCounted = (key: string): number => wakes.get(key) ?? 0;
