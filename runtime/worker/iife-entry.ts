// dist/kiln.iife.js, the script-tag build (global `kiln`). One self-contained file: on the page it
// is the public API and starts its worker from its own URL; inside that worker (named kiln-worker)
// the same file hosts the sessions. So a page downloads one file, and the browser's HTTP cache
// serves the worker's copy when the server allows caching.
import * as core from './core-entry.ts';
import { setLocalCore } from './browser-session.ts';
import { classicWorker, setWorkerFactory } from './client.ts';
import { exposeHost } from './host.ts';
import { isKilnWorker, workerScopeEndpoint } from './scope.ts';

// Only during the script's first evaluation does document.currentScript name it.
const scriptUrl = typeof document !== 'undefined' && document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : undefined;
setLocalCore(core);
if (scriptUrl) setWorkerFactory(() => classicWorker(scriptUrl));
if (isKilnWorker()) exposeHost(workerScopeEndpoint());

export { InferenceSession } from './browser-session.ts';
export { Tensor } from '../../core/tensor.ts';
export { KilnError } from '../../core/errors.ts';
export { importKilnPublicKey } from '../format/kiln/kiln-signature.ts';
export { generate } from '../generate/generate.ts';
export { env } from '../api/env.ts';
