// Entry of a pool worker in browsers: a module Worker that thread-spawner-browser.ts starts.
import { runThreadWorker } from './thread-worker-loop.ts';
import type { ThreadInit, ThreadReply } from './thread-job.ts';

/** The parts of a dedicated worker's global scope used here (the DOM lib types globalThis as Window). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<ThreadInit>) => void) | null;
  postMessage(m: ThreadReply): void;
}
const scope = globalThis as unknown as WorkerScope; // this file only ever runs as a worker
// Every message is a pool's init: after a pool's exit job the loop returns and the worker, parked,
// serves the next pool (thread-pool.ts).
scope.onmessage = (e) => runThreadWorker(e.data, (r) => scope.postMessage(r));
