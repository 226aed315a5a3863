// Node's pool workers: worker_threads running thread-worker-node.ts (under tsx in the source tree,
// where the parent's --import tsx is inherited) or dist/node/thread-worker.js (the package build).
// Kept apart from thread-pool.ts because browser builds must not import node: modules.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadHandle, ThreadSpawner } from './thread-pool.ts';
import type { ThreadInit, ThreadReply } from './thread-job.ts';

let sourceTreeWorker: URL | undefined;

/**
 * The worker's script: dist/node/thread-worker.js in the package. In the source tree (tests, benches
 * under tsx) a Worker does not inherit tsx's loader, and registering tsx inside each worker costs
 * ~200 ms per worker on this machine; instead the entry is bundled once per process with esbuild
 * (tsx's own dependency, present wherever tsx is) into a data: URL (~25 ms per worker after that).
 */
async function workerUrl(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return new URL(/* @vite-ignore */ './thread-worker.js', import.meta.url); // dist/node/thread-worker.js, a second entry of the Node build
  if (sourceTreeWorker) return sourceTreeWorker;
  const esbuild = await import('esbuild'); // a dev dependency, left external by vite.config.ts
  const entry = fileURLToPath(new URL('./thread-worker-node.ts', import.meta.url));
  const code = esbuild.buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' }).outputFiles[0]!.text;
  sourceTreeWorker = new URL(`data:text/javascript,${encodeURIComponent(code)}`);
  return sourceTreeWorker;
}

/** Node's spawner; its workers park between pools (thread-pool.ts). */
export function nodeThreadSpawner(): ThreadSpawner {
  const spawn = async (): Promise<ThreadHandle> => {
    const url = await workerUrl();
    // The bundled source-tree entry is plain JS: without the parent's `--import tsx` (inherited by
    // default) a worker starts in ~25 ms instead of ~100+ (V8 flags are per process and still apply).
    const worker = new Worker(url, url.protocol === 'data:' ? { execArgv: [] } : {});
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    let pending: { resolve: (r: ThreadReply) => void; reject: (e: Error) => void } | undefined;
    let dead: Error | undefined;
    const settle = (f: (p: NonNullable<typeof pending>) => void): void => {
      const p = pending;
      pending = undefined;
      worker.unref();
      if (p) f(p);
    };
    worker.on('message', (r: ThreadReply) => settle((p) => p.resolve(r)));
    worker.on('error', (e) => settle((p) => p.reject(e)));
    worker.once('exit', (code) => {
      dead = new Error(`pool worker exited (code ${code})`);
      settle((p) => p.reject(dead!));
    });
    // Referenced only while a reply is awaited (start() refs it): a session the app forgets to release,
    // or a parked worker, must not keep the process alive. After the listeners: adding a 'message'
    // listener refs the worker again.
    worker.unref();
    const handle: ThreadHandle = {
      start: (init: ThreadInit) =>
        new Promise<ThreadReply>((resolve, reject) => {
          if (dead) return reject(dead);
          pending = { resolve, reject };
          worker.ref();
          worker.postMessage(init);
        }),
      terminate: () => worker.terminate().then(() => exited),
    };
    return handle;
  };
  return Object.assign(spawn, { parkKey: 'node' });
}
