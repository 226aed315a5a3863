// Entry of a pool worker in browsers: a module Worker that thread-spawner-browser.ts starts.
import { runThreadWorker } from './thread-worker-loop.ts';
import type { ThreadInit, ThreadReply } from './thread-job.ts';

/** The parts of a dedicated worker's global scope used here (the DOM lib types globalThis as Window). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<ThreadInit>) => void) | null;
  postMessage(m: ThreadReply): void;
}
const scope = globalThis as unknown as WorkerScope; // this file only ever runs as a worker
scope.onmessage = (e) => {
  scope.onmessage = null;
  runThreadWorker(e.data, (r) => scope.postMessage(r));
};
