// The worker's global scope as a comlink endpoint, and whether this script runs as a Kiln worker.
import type { Endpoint } from 'comlink';
import { WORKER_NAME } from './protocol.ts';

export function workerScopeEndpoint(): Endpoint {
  // Typed through the DOM lib's Window globals; in a worker the same calls take { transfer }.
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => postMessage(message, { transfer: transfer ?? [] }),
    addEventListener: (type, listener, options) => addEventListener(type, listener, options),
    removeEventListener: (type, listener, options) => removeEventListener(type, listener, options),
  };
}

/** True inside a worker that Kiln started (classic-script build: the same file serves both sides). */
export function isKilnWorker(): boolean {
  return typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope && self.name === WORKER_NAME;
}
