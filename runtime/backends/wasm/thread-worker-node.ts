// Entry of a pool worker under Node's worker_threads (runs under tsx in tests, as dist/node/thread-worker.js in the package).
import { parentPort } from 'node:worker_threads';
import { runThreadWorker } from './thread-worker-loop.ts';
import type { ThreadInit } from './thread-job.ts';

parentPort?.once('message', (init: ThreadInit) => runThreadWorker(init, (r) => parentPort?.postMessage(r)));
