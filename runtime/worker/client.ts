// The page's side of a Kiln worker: starting it, the comlink proxy, and never waiting forever on a
// worker that failed to start or died (its pending calls reject with the reason).
import { wrap, type Endpoint, type Remote } from 'comlink';
import { KilnError, fail } from '../../core/errors.ts';
import { installErrorTransfer, WORKER_NAME, type HostApi } from './protocol.ts';

/** How this bundle starts a worker: ESM next to kiln.mjs, the IIFE from its own script URL. */
let factory: (() => Worker) | undefined;

export function setWorkerFactory(f: () => Worker): void {
  factory = f;
}

/** Sessions go to a worker by default on a page's main thread, when this bundle knows how to start one. */
export function workersByDefault(): boolean {
  return factory !== undefined && typeof Worker !== 'undefined' && typeof document !== 'undefined';
}

export class WorkerConnection {
  readonly api: Remote<HostApi>;
  private failure: KilnError | undefined;
  private readonly waiting = new Set<(e: KilnError) => void>();

  constructor(
    private readonly worker: Worker,
    private readonly owned: boolean,
  ) {
    installErrorTransfer();
    // A Worker is an Endpoint at run time; the DOM typings of postMessage overloads just differ.
    const endpoint: Endpoint = {
      postMessage: (message: unknown, transfer?: Transferable[]) => worker.postMessage(message, transfer ?? []),
      addEventListener: (type, listener, options) => worker.addEventListener(type, listener, options),
      removeEventListener: (type, listener, options) => worker.removeEventListener(type, listener, options),
    };
    this.api = wrap<HostApi>(endpoint);
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      this.die(ev.message ? `uncaught error in the worker: ${ev.message}` : 'its script could not be loaded (is kiln.worker.mjs / kiln.iife.js served next to the page\'s copy of Kiln?)');
    });
    worker.addEventListener('messageerror', () => this.die('a message from it could not be deserialized'));
  }

  get dead(): boolean {
    return this.failure !== undefined;
  }

  /** Makes a call; rejects, rather than hanging, if the worker dies before answering. */
  call<T>(work: (api: Remote<HostApi>) => Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      work(this.api)
        .then(resolve, reject)
        .finally(() => this.waiting.delete(reject));
    });
  }

  /** Ends a worker this connection started (a caller's own Worker is the caller's to end). */
  close(): void {
    if (!this.owned) return;
    this.worker.terminate();
    this.die('it was terminated');
  }

  private die(why: string): void {
    if (this.failure) return;
    this.failure = new KilnError('DEVICE_UNAVAILABLE', `the Kiln worker stopped: ${why}`);
    for (const reject of this.waiting) reject(this.failure);
    this.waiting.clear();
    if (this.owned) this.worker.terminate();
  }
}

let shared: WorkerConnection | undefined;
const given = new WeakMap<Worker, WorkerConnection>();

function startWorker(): Worker {
  if (!factory || typeof Worker === 'undefined') return fail('INVALID_ARGUMENT', 'this environment cannot start a Kiln worker (no Worker, or a build without one); pass { worker: false }');
  return factory();
}

/** The page's shared worker (true), one of the session's own ('own'), or the caller's Worker. */
export function connectionFor(worker: true | 'own' | Worker): WorkerConnection {
  if (worker === true) {
    if (!shared || shared.dead) shared = new WorkerConnection(startWorker(), true);
    return shared;
  }
  if (worker === 'own') return new WorkerConnection(startWorker(), true);
  let c = given.get(worker);
  if (!c || c.dead) given.set(worker, (c = new WorkerConnection(worker, false)));
  return c;
}

/** Starts the classic-script build (kiln.iife.js) as a worker; cross-origin scripts through a blob. */
export function classicWorker(scriptUrl: string): Worker {
  const sameOrigin = typeof location !== 'undefined' && new URL(scriptUrl, location.href).origin === location.origin;
  if (sameOrigin) return new Worker(scriptUrl, { name: WORKER_NAME });
  // The script's own URL goes first: a blob worker's location names the blob, and kiln.iife.js finds its lazy parts beside itself (iife-chunks.ts).
  const bootstrap = new Blob([`self.__kilnScriptUrl = ${JSON.stringify(scriptUrl)}; importScripts(self.__kilnScriptUrl);`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(bootstrap), { name: WORKER_NAME });
}
