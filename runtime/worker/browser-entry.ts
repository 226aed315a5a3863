// dist/kiln.mjs, the ESM browser build ("browser" condition of the package): the public API with
// sessions in a module worker (dist/kiln.worker.mjs beside this file) by default on a page's main
// thread. Written as `new Worker(new URL('./kiln.worker.mjs', import.meta.url), ...)` in the
// output, the form bundlers (Vite, webpack 5) recognise to ship the worker with an app; the
// `+ ''` keeps Vite from resolving it while building Kiln itself (vite.config.ts removes it).
import { setWorkerFactory } from './client.ts';

setWorkerFactory(() => new Worker(new URL('./kiln.worker.mjs' + '', import.meta.url), { type: 'module', name: 'kiln-worker' }));

export { InferenceSession } from './browser-session.ts';
export type { SessionOptions, InputMetadata, FeedsType, ReturnType, ExecutionProvider } from '../api/inference-session.ts';
export { Tensor } from '../api/tensor.ts';
export type { Dims, AnyTensor } from '../api/tensor.ts';
export type { DataType } from '../core/dtype.ts';
export { KilnError } from '../core/errors.ts';
export type { KilnErrorCode } from '../core/errors.ts';
