// InferenceSession as browser bundles export it: the same API as runtime/api/inference-session.ts
// (checked below at compile time), with the real session either in a Kiln worker (the default on a
// page's main thread) or in this thread ({ worker: false }). This file stays light: the runtime
// itself (format, graph, kernels, backends) is only in the worker, or loaded when first needed here.
import { proxy, transfer, type Remote } from 'comlink';
import type { BackendChoice } from '../api/backend-choice.ts';
import type { DeviceLostEvent } from '../api/device-events.ts';
import type { FeedsType, InferenceSession as CoreSession, InputMetadata, ReturnType, SessionOptions } from '../api/inference-session.ts';
import type { ModelSource } from '../api/model-source.ts';
import { Tensor, gpuBufferTensor, type AnyTensor, type GpuDevice } from '../../core/tensor.ts';
import { KilnError, fail } from '../../core/errors.ts';
import { absoluteUrl } from '../loading/fetch-model.ts';
import { connectionFor, workersByDefault, type WorkerConnection } from './client.ts';
import { RemoteTelemetry } from './page-telemetry.ts';
import type { SessionTelemetry } from '../telemetry/telemetry-api.ts';
import { reviveError, serializeError, toWire, transferList, type HostApi, type SessionInfo, type SessionState, type WireOptions, type WireTensors } from './protocol.ts';
import { registerGenerator, setGenerateLoop } from '../generate/generate-elsewhere.ts';
import type { FetchesType, RunOptions } from '../api/run-arguments.ts';
import { fillOutput, isObject, preallocatedOutputs } from '../api/preallocated-outputs.ts';
import { providersWithEnv } from '../api/env.ts';
import type { GenerateOptions, GenerateResult } from '../generate/generate.ts';
import { createArguments } from '../api/create-arguments.ts';

type CoreModule = typeof import('./core-entry.ts');

/** The IIFE bundles the runtime and registers it here; the ESM build loads kiln.core.mjs on demand. */
let localCore: CoreModule | undefined;

export function setLocalCore(core: CoreModule): void {
  localCore = core;
}

async function loadCore(): Promise<CoreModule> {
  localCore ??= await import('./core-entry.ts');
  return localCore;
}

// generate() on a session that is not Kiln's (anything with run()): the loop from the runtime's bundle.
setGenerateLoop(async () => {
  const { generateHere } = await (await loadCore()).loadGenerateHere();
  return { generateHere: (session, options) => generateHere(session, options).catch((e: unknown) => Promise.reject(ownError(e))) };
});

/** The other bundle's classes (kiln.core.mjs) become this bundle's, so instanceof works for callers. */
function ownTensor(t: Pick<AnyTensor, 'type' | 'data' | 'dims' | 'location' | 'gpuBuffer' | 'getData' | 'dispose'>): AnyTensor {
  if (t instanceof Tensor) return t;
  // A gpu-buffer output keeps its buffer; downloading and disposing go to the original.
  if (t.location === 'gpu-buffer') return gpuBufferTensor(t.gpuBuffer, { dataType: t.type, dims: t.dims, download: () => t.getData(), dispose: () => t.dispose() });
  return new Tensor(t.type, t.data, t.dims);
}

function ownError(e: unknown): unknown {
  return e instanceof KilnError || (e as { name?: unknown } | null)?.name !== 'KilnError' ? e : reviveError(serializeError(e));
}

interface Handle {
  readonly info: SessionInfo;
  readonly telemetry: SessionTelemetry;
  state(): SessionState;
  /** a session in this thread on WebGPU: its device and allocation counts; none in a worker */
  gpu(): { device: GpuDevice | undefined; allocations: CoreSession['gpuAllocations']; pipelines: CoreSession['pipelineCompiles'] };
  /**
   * run()'s arguments as the caller gave them, except that a map with pre-allocated tensors came out
   * as `into` (their names in `fetches`); those come back as the caller's own objects, filled. The
   * session checks the rest (run-arguments.ts).
   */
  run(feeds: FeedsType, fetches: unknown, options: unknown, into: ReadonlyMap<string, AnyTensor>): Promise<ReturnType>;
  /** generate() where the core session is: its cache never crosses to this side */
  generate(options: GenerateOptions): Promise<GenerateResult>;
  release(): Promise<void>;
}

/** What the runtime's own session offers publicly; this class must offer the same. */
type PublicSession = { [K in keyof CoreSession]: CoreSession[K] };

export class InferenceSession implements PublicSession {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly handle: Handle) {
    registerGenerator(this, (options) => handle.generate(options));
  }

  /**
   * Loads a model: a URL or path, bytes, or (as onnxruntime-web) an ArrayBuffer with the model at
   * byteOffset, byteLength bytes long (default: to the end).
   */
  static create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static create(source: ModelSource, options?: SessionOptions): Promise<InferenceSession>;
  static async create(arg0: ModelSource | ArrayBufferLike, arg1?: SessionOptions | number, arg2?: number | SessionOptions, arg3?: SessionOptions): Promise<InferenceSession> {
    const { source, options: given = {} } = createArguments<SessionOptions>(arg0, arg1, arg2, arg3);
    // this page's env (onnxruntime-web's): the session may be in a worker, whose env is its own
    const executionProviders = providersWithEnv(given.executionProviders);
    const options = executionProviders ? { ...given, executionProviders: [...executionProviders] } : given;
    const where = options.worker ?? workersByDefault();
    const handle = where === false ? await localHandle(source, options) : await remoteHandle(connectionFor(where), where === 'own', source, options);
    return new InferenceSession(handle);
  }

  get inputNames(): string[] {
    return [...this.handle.info.inputNames];
  }

  get outputNames(): string[] {
    return [...this.handle.info.outputNames];
  }

  get inputMetadata(): InputMetadata[] {
    return this.handle.info.inputMetadata.map((m) => ({ ...m, shape: [...m.shape] }));
  }

  get outputMetadata(): InputMetadata[] {
    return this.handle.info.outputMetadata.map((m) => ({ ...m, shape: [...m.shape] }));
  }

  get executionProvider(): SessionState['executionProvider'] {
    return this.handle.state().executionProvider;
  }

  get adapterInfo(): string {
    return this.handle.state().adapterInfo;
  }

  get backendChoice(): BackendChoice {
    return this.handle.info.backendChoice;
  }

  get lastPlacement(): SessionState['placement'] {
    return this.handle.state().placement;
  }

  /** on WebGPU in this thread ({ worker: false }): the session's device; undefined in a worker, where buffers cannot come from */
  get gpuDevice(): GpuDevice | undefined {
    return this.handle.gpu().device;
  }

  get gpuAllocations(): CoreSession['gpuAllocations'] {
    return this.handle.gpu().allocations;
  }

  /** like gpuAllocations: in this thread only (undefined in a worker) */
  get pipelineCompiles(): CoreSession['pipelineCompiles'] {
    return this.handle.gpu().pipelines;
  }

  get modelMetadata(): SessionInfo['modelMetadata'] {
    return this.handle.info.modelMetadata;
  }

  /** latency and drift of this session (docs/telemetry.md); forwards to the worker when it lives there */
  get telemetry(): SessionTelemetry {
    return this.handle.telemetry;
  }

  get bundle(): SessionInfo['bundle'] {
    return this.handle.info.bundle;
  }

  get verification(): SessionInfo['verification'] {
    return this.handle.info.verification;
  }

  /**
   * Runs the model; runs are serialized per session. In a worker, input buffers travel there and
   * back, and pre-allocated outputs are filled on their return. Arguments as onnxruntime-web's.
   */
  run(feeds: FeedsType, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<ReturnType> {
    let names: readonly string[] | undefined;
    let into = new Map<string, AnyTensor>();
    try {
      if (isObject(fetches) && !Array.isArray(fetches)) ({ names, into } = preallocatedOutputs(this.handle.info.outputNames, fetches));
    } catch (e) {
      return Promise.reject(e);
    }
    const result = this.queue.then(() => this.handle.run(feeds, names ?? fetches, options, into));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async release(): Promise<void> {
    await this.queue;
    await this.handle.release();
  }
}

// --- in this thread ------------------------------------------------------------------------

async function localHandle(source: ModelSource, options: SessionOptions): Promise<Handle> {
  const core = await loadCore();
  let session: CoreSession;
  try {
    session = await core.InferenceSession.create(source, options);
  } catch (e) {
    throw ownError(e);
  }
  const state = (): SessionState => ({ executionProvider: session.executionProvider, adapterInfo: session.adapterInfo, placement: session.lastPlacement });
  return {
    info: { id: 0, inputNames: session.inputNames, outputNames: session.outputNames, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata, executionProvider: session.executionProvider, adapterInfo: session.adapterInfo, modelMetadata: session.modelMetadata, backendChoice: session.backendChoice, bundle: session.bundle, verification: session.verification, telemetryEnabled: session.telemetry.enabled },
    telemetry: session.telemetry,
    state,
    gpu: () => ({ device: session.gpuDevice, allocations: session.gpuAllocations, pipelines: session.pipelineCompiles }),
    async run(feeds, fetches, options, into) {
      try {
        const asked = into.size > 0 && Array.isArray(fetches) ? Object.fromEntries(fetches.map((n: string) => [n, into.get(n) ?? null])) : fetches;
        const out = await session.run(feeds, asked as FetchesType, options as RunOptions); // checked by the session
        return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, into.get(k) ?? ownTensor(t)])); // the session filled the caller's tensors
      } catch (e) {
        throw ownError(e);
      }
    },
    async generate(options) {
      try {
        return await (await core.loadGenerateHere()).generateHere(session, options);
      } catch (e) {
        throw ownError(e);
      }
    },
    release: () => session.release(),
  };
}

// --- in a worker ---------------------------------------------------------------------------

let nextRequest = 1;

async function remoteHandle(connection: WorkerConnection, ownWorker: boolean, source: ModelSource, options: SessionOptions): Promise<Handle> {
  const { signal, onProgress, onDeviceLost, onDriftAlert, worker: _worker, ...data } = options;
  const where = options.preferredOutputLocation;
  if (where === 'gpu-buffer' || (typeof where === 'object' && Object.values(where).includes('gpu-buffer'))) {
    fail('INVALID_ARGUMENT', "preferredOutputLocation 'gpu-buffer' needs the session on this thread (worker: false): GPU buffers cannot cross from a worker to the page");
  }
  const telemetry = new RemoteTelemetry(Boolean(options.telemetry), onDriftAlert);
  signal?.throwIfAborted();
  const requestId = nextRequest++;
  let state: SessionState | undefined;
  const lost = (e: DeviceLostEvent): void => {
    if (state) state = { ...state, executionProvider: e.executionProvider, adapterInfo: e.adapterInfo };
    if (onDeviceLost) onDeviceLost(e);
    else console.warn(`kiln: the GPU device was lost (${e.reason}: ${e.message}); the session now runs on ${e.executionProvider} (${e.adapterInfo})`);
  };
  // Strings are resolved here: in the worker, relative URLs would be relative to its script.
  const request = { requestId, source: typeof source === 'string' ? absoluteUrl(source) : source, options: data as WireOptions };
  const events = options.telemetry ? proxy((type: string, detail: unknown) => telemetry.receive(type, detail)) : undefined;
  const created = connection.call((api) => api.create(request, onProgress && proxy(onProgress), proxy(lost), events));
  let info: SessionInfo;
  try {
    info = await (signal ? untilAborted(created, signal, () => void connection.call((api) => api.abort(requestId)).catch(() => undefined)) : created);
  } catch (e) {
    if (ownWorker) connection.close();
    if (e instanceof DOMException && e.name === 'DataCloneError') fail('INVALID_ARGUMENT', `session options must be plain data to reach the worker: ${e.message}`);
    throw e;
  }
  state = { executionProvider: info.executionProvider, adapterInfo: info.adapterInfo, placement: undefined };
  const id = info.id;
  let released = false;
  telemetry.attach({
    snapshot: () => connection.call((api) => api.telemetrySnapshot(id)),
    flush: (keepalive) => connection.call((api) => api.telemetryFlush(id, keepalive)),
  });
  return {
    info,
    telemetry,
    state: () => state!,
    gpu: () => ({ device: undefined, allocations: undefined, pipelines: undefined }),
    async run(feeds, fetches, options, into) {
      if (released) fail('RELEASED', 'this session was released');
      const { wire, mine } = feedsToWire(feeds);
      // Pre-allocated outputs of ours travel like the inputs: the worker fills their buffers, whose
      // pages are already there, and sends them back; others are filled here from the reply.
      const fed = new Set(Object.values(wire).map((w) => (Array.isArray(w.data) ? undefined : w.data.buffer)));
      const moved: WireTensors = {};
      for (const [name, t] of into) if (t instanceof Tensor && movable(t.data) && !fed.has(t.data.buffer)) moved[name] = toWire(t);
      const sent = transferList([...Object.values(wire), ...Object.values(moved)]);
      const reply = await connection.call((api) => api.run(id, transfer(wire, sent), fetches, options, moved));
      // Our Tensors get their buffers back (the worker returns them), so feeds stay usable.
      for (const [name, t] of mine) if (reply.inputs[name]) Reflect.set(t, 'data', reply.inputs[name].data);
      for (const name of Object.keys(moved)) if (reply.into?.[name]) Reflect.set(into.get(name)!, 'data', reply.into[name].data);
      if (reply.error || !reply.outputs || !reply.state) throw reviveError(reply.error ?? { kind: 'KilnError', name: 'KilnError', code: 'INTERNAL', message: 'the worker answered without outputs' });
      state = reply.state;
      const names = Object.keys(moved).length > 0 ? (fetches as readonly string[]) : Object.keys(reply.outputs); // moved: the names were sent as a list
      return Object.fromEntries(names.map((k) => {
        const dest = into.get(k);
        if (k in moved) return [k, dest!];
        const w = reply.outputs![k]!;
        const t = new Tensor(w.type, w.data, w.dims);
        return [k, dest ? fillOutput(k, dest, t) : t];
      }));
    },
    async generate(options) {
      if (released) fail('RELEASED', 'this session was released');
      const { onToken, signal, ...data } = options;
      const generation = nextRequest++;
      const stop = (): void => void connection.call((api) => api.abortGenerate(generation, String(signal?.reason))).catch(() => undefined);
      const callback = onToken && proxy(onToken);
      const result = connection.call((api) => api.generate(id, generation, data, callback));
      signal?.addEventListener('abort', stop, { once: true });
      if (signal?.aborted) stop();
      try {
        return await result;
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    },
    async release() {
      if (released) return;
      released = true;
      telemetry.detach();
      await connection.call((api: Remote<HostApi>) => api.release(id)).catch(() => undefined); // a dead worker holds nothing
      if (ownWorker) connection.close();
    },
  };
}

/** Resolves like `p`, but rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * Feeds as wire tensors. Our own Tensors whose data spans a whole ArrayBuffer travel without a
 * copy (transferred, and handed back by the worker); anything else is copied first, so no caller
 * memory outside the tensor is ever moved.
 */
/** A typed array that owns its whole (non-shared) buffer, not moved elsewhere already: it can travel to the worker and back. */
function movable(d: AnyTensor['data']): d is Exclude<AnyTensor['data'], string[]> {
  return !Array.isArray(d) && d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.byteLength > 0;
}

function feedsToWire(feeds: FeedsType): { wire: WireTensors; mine: [string, AnyTensor][] } {
  if (typeof feeds !== 'object' || feeds === null) fail('INPUT_MISMATCH', 'run() takes an object mapping input names to Tensors');
  const wire: WireTensors = {};
  const mine: [string, AnyTensor][] = [];
  for (const [name, t] of Object.entries(feeds)) {
    if (typeof t !== 'object' || t === null || !('dims' in t) || !('type' in t) || !('data' in t)) fail('INPUT_MISMATCH', `input '${name}' is not a Tensor`);
    if ((t as { location?: unknown }).location === 'gpu-buffer') fail('INPUT_MISMATCH', `input '${name}' is a gpu-buffer tensor: GPU buffers cannot cross to the worker; await tensor.getData() and feed a CPU tensor, or create the session with worker: false`, { input: name });
    const d = t.data;
    // A buffer moved to the worker by a run of another session that has not returned yet.
    if (!Array.isArray(d) && d.buffer.byteLength === 0 && t.dims.every((n) => n > 0)) fail('INPUT_MISMATCH', `input '${name}': its data is in the worker for another session's run (inputs travel there and back); await that run or pass a copy`);
    const whole = !Array.isArray(d) && d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
    if (t instanceof Tensor && whole) {
      wire[name] = toWire(t);
      mine.push([name, t]);
    } else {
      wire[name] = { type: t.type, dims: [...t.dims], data: Array.isArray(d) || !(d.buffer instanceof ArrayBuffer) ? d : d.slice() };
    }
  }
  return { wire, mine };
}
