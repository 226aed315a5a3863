// Browsers' pool workers: module Workers running thread-worker-browser.ts. Used only where the page
// is cross-origin isolated (SharedArrayBuffer); wasm-module.ts checks that before it spawns.
import type { ThreadHandle, ThreadSpawner } from './thread-pool.ts';
import type { ThreadReply } from './thread-job.ts';

export function browserThreadSpawner(): ThreadSpawner {
  return () => {
    // The literal `new Worker(new URL(..., import.meta.url))` form is what bundlers (Vite, webpack) follow.
    const worker = new Worker(new URL('./thread-worker-browser.ts', import.meta.url), { type: 'module', name: 'kiln-wasm-thread' });
    const started = new Promise<ThreadReply>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<ThreadReply>) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(`pool worker failed to start: ${e.message || 'no detail (blocked or not found)'}`));
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
