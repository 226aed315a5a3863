// Browsers' pool workers: module Workers running thread-worker-browser.ts, built as
// dist/kiln.thread-worker.mjs and found beside the Kiln bundle (as dist/wasm/ is), so the ES builds,
// the IIFE and the session worker all find it without a bundler rewriting the URL. Used only where the
// page is cross-origin isolated (SharedArrayBuffer); wasm-module.ts checks that before it spawns.
import { fail } from '../../../core/errors.ts';
import type { ThreadHandle, ThreadSpawner } from './thread-pool.ts';
import type { ThreadReply } from './thread-job.ts';
import { besideBundle } from './wasm-module.ts';

export const BROWSER_THREAD_WORKER_FILE = 'kiln.thread-worker.mjs';

/** `script`: the worker's URL; default kiln.thread-worker.mjs beside the bundle. */
export function browserThreadSpawner(script?: URL): ThreadSpawner {
  return () => {
    const url = script ?? besideBundle(BROWSER_THREAD_WORKER_FILE) ?? fail('DEVICE_UNAVAILABLE', `cannot tell where ${BROWSER_THREAD_WORKER_FILE} is`);
    const worker = new Worker(url, { type: 'module', name: 'kiln-wasm-thread' });
    const started = new Promise<ThreadReply>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<ThreadReply>) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(`pool worker ${url.href} failed to start: ${e.message || 'no detail (not found or blocked)'}`));
    });
    started.catch(() => undefined); // ThreadPool.start reads it
    const handle: ThreadHandle = {
      post: (init) => worker.postMessage(init),
      started,
      terminate: () => {
        worker.terminate(); // synchronous in browsers: the worker is gone
        return Promise.resolve();
      },
    };
    return handle;
  };
}
