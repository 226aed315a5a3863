// dist/kiln.mjs, the ESM browser build ("browser" condition of the package): the public API with
// sessions in a module worker by default on a page's main thread. From source (Vite dev, app
// bundles of runtime/) the worker is worker-entry.ts; the library build (vite.config.ts) rewrites
// the URL to './kiln.worker.mjs', so dist/kiln.mjs holds the literal
// `new Worker(new URL('./kiln.worker.mjs', import.meta.url), { type: 'module', ... })` that app
// bundlers (Vite, webpack 5) recognise to ship the worker with the app.
import { setWorkerFactory } from './client.ts';

setWorkerFactory(() => new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module', name: 'kiln-worker' }));

export { InferenceSession } from './browser-session.ts';
export type { SessionOptions, Verification, InputMetadata, FeedsType, ReturnType, ExecutionProvider, OutputLocation } from '../api/inference-session.ts';
export type { FetchesType, RunOptions } from '../api/run-arguments.ts';
export { env, type Env } from '../api/env.ts';
export { Tensor } from '../../core/tensor.ts';
export type { Dims, AnyTensor, TensorLocation, GpuBufferDataType, GpuBufferTensorOptions, GpuBuffer, GpuDevice } from '../../core/tensor.ts';
export { generate } from '../generate/generate.ts';
export type { GenerateOptions, GenerateResult, GenerateSession } from '../generate/generate.ts';
export type { DataType } from '../../core/dtype.ts';
export { KilnError } from '../../core/errors.ts';
export { importKilnPublicKey } from '../format/kiln/kiln-signature.ts';
export type { KilnErrorCode } from '../../core/errors.ts';
