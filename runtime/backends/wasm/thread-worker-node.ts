// Entry of a pool worker under Node's worker_threads (runs under tsx in tests, as dist/node/thread-worker.js in the package).
import { parentPort } from 'node:worker_threads';
import { runThreadWorker } from './thread-worker-loop.ts';
import type { ThreadInit } from './thread-job.ts';

// `on`, not `once`: after a pool's exit job the loop returns and the worker, parked, serves the next pool.
parentPort?.on('message', (init: ThreadInit) => runThreadWorker(init, (r) => parentPort?.postMessage(r)));
