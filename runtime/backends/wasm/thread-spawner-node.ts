// Node's pool workers: worker_threads running thread-worker-node.ts (under tsx in the source tree,
// where the parent's --import tsx is inherited) or dist/node/thread-worker.js (the package build).
// Kept apart from thread-pool.ts because browser builds must not import node: modules.
import { Worker } from 'node:worker_threads';
import type { ThreadHandle, ThreadSpawner } from './thread-pool.ts';
import type { ThreadInit, ThreadReply } from './thread-job.ts';

/**
 * The worker's script. In the source tree a worker does not get the parent's tsx loader (Node 20
 * runs --import hooks per thread, and tsx's do not reach a Worker's entry), so a small ES module
 * registers tsx first, then imports the TypeScript entry.
 */
function workerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./thread-worker.js', import.meta.url);
  const entry = new URL('./thread-worker-node.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

export function nodeThreadSpawner(): ThreadSpawner {
  return () => {
    const worker = new Worker(workerUrl());
    worker.unref(); // a session the app forgets to release must not keep the process alive
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const started = new Promise<ThreadReply>((resolve, reject) => {
      worker.once('message', (r: ThreadReply) => resolve(r));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`pool worker exited (code ${code}) before it started`)));
    });
    started.catch(() => undefined); // ThreadPool.start reads it; an exit after the start is no error
    const handle: ThreadHandle = {
      post: (init: ThreadInit) => worker.postMessage(init),
      started,
      terminate: () => worker.terminate().then(() => exited),
    };
    return handle;
  };
}
