// Browsers' pool workers: module Workers running thread-worker-browser.ts, built as
// dist/kiln.thread-worker.mjs and found beside the Kiln bundle (as dist/wasm/ is), so the ES builds,
// the IIFE and the session worker all find it without a bundler rewriting the URL. Used only where the
// page is cross-origin isolated (SharedArrayBuffer); wasm-module.ts checks that before it spawns.
import { fail } from '../../../core/errors.ts';
import type { ThreadHandle, ThreadSpawner } from './thread-pool.ts';
import type { ThreadReply } from './thread-job.ts';
import { besideBundle } from './wasm-module.ts';

export const BROWSER_THREAD_WORKER_FILE = 'kiln.thread-worker.mjs';

/** `script`: the worker's URL; default kiln.thread-worker.mjs beside the bundle. Its workers park between pools (thread-pool.ts). */
export function browserThreadSpawner(script?: URL): ThreadSpawner {
  const url = script ?? besideBundle(BROWSER_THREAD_WORKER_FILE);
  const spawn = (): ThreadHandle => {
    if (url === undefined) fail('DEVICE_UNAVAILABLE', `cannot tell where ${BROWSER_THREAD_WORKER_FILE} is`);
    const worker = new Worker(url, { type: 'module', name: 'kiln-wasm-thread' });
    let pending: { resolve: (r: ThreadReply) => void; reject: (e: Error) => void } | undefined;
    let dead: Error | undefined;
    worker.onmessage = (e: MessageEvent<ThreadReply>) => {
      const p = pending;
      pending = undefined;
      p?.resolve(e.data);
    };
    worker.onerror = (e) => {
      dead = new Error(`pool worker ${url.href} failed: ${e.message || 'no detail (not found or blocked)'}`);
      const p = pending;
      pending = undefined;
      p?.reject(dead);
    };
    const handle: ThreadHandle = {
      start: (init) =>
        new Promise<ThreadReply>((resolve, reject) => {
          if (dead) return reject(dead);
          pending = { resolve, reject };
          worker.postMessage(init);
        }),
      terminate: () => {
        worker.terminate(); // synchronous in browsers: the worker is gone
        return Promise.resolve();
      },
    };
    return handle;
  };
  return url === undefined ? spawn : Object.assign(spawn, { parkKey: url.href });
}
