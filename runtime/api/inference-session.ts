import type { TensorMeta } from '../../kernels/contract.ts';
import type { Backend, BackendName, Placement, PreparedPlan } from '../backends/backend.ts';
import { JsBackend } from '../backends/js/js-backend.ts';
import type { KernelTuning } from '../backends/webgpu/kernel-tuning.ts';
import type { PipelineCounts } from '../backends/webgpu/pipeline-counts.ts';
import { WebGpuBackend } from '../backends/webgpu/webgpu-backend.ts';
import type { DataType, TypedArrayOf } from '../../core/dtype.ts';
import { KilnError, fail } from '../../core/errors.ts';
import type { BundleSpec } from '../format/kiln/bundle-spec.ts';
import type { Dim, Graph, Model } from '../graph/ir.ts';
import { checkFreeDimensionOverrides, type FreeDimensionOverrides } from '../graph/free-dimensions.ts';
import { loadGraphPassesFor, optimizeForBackend, optimizeGraph } from '../graph/passes/optimize.ts';
import { loadOpFamiliesFor } from '../../kernels/lazy-families.ts';
import { HostValueNeeded, buildPlan, loadControlFlowFor } from '../plan/build-plan.ts';
import { resolveGraph, type ResolvedGraph } from '../plan/resolved-graph.ts';
import { commitModelCache } from '../loading/fetch-model.ts';
import { loadModel, type LoadedModel } from '../loading/load-model.ts';
import { plannableInputs } from '../loading/shape-plan.ts';
import { StreamedStart } from '../loading/streamed-start.ts';
import type { BackendChoice } from './backend-choice.ts';
import { registerCarried, registerDeriver, type CarriedPair, type DeriveOptions } from './derived-sessions.ts';
import { setGenerateLoop } from '../generate/generate-elsewhere.ts';
import type { DeviceLostEvent } from './device-events.ts';
import { RecoveringBackend } from './device-recovery.ts';
import type { ModelSource } from './model-source.ts';
import { MAX_CACHED_PLANS, PlanCache } from './plan-cache.ts';
import { Tensor, gpuBufferTensor, type AnyTensor, type GpuDevice } from '../../core/tensor.ts';
import { DisabledTelemetry } from '../telemetry/disabled-telemetry.ts';
import { newRunTiming, type RunTiming } from '../telemetry/latency/run-timing.ts';
import type { ActiveTelemetry } from '../telemetry/session-telemetry.ts';
import type { DriftAlert, SessionTelemetry, TelemetryOptions } from '../telemetry/telemetry-api.ts';
import { allNodes, CAPTURES_ATTR } from '../graph/subgraph.ts';
import { runArguments, type FetchesType, type RunArguments, type RunOptions } from './run-arguments.ts';
import { DEFAULT_PROVIDERS, providersWithEnv } from './env.ts';
import { checkOutputTensor, fillOutput } from './preallocated-outputs.ts';
import { createArguments } from './create-arguments.ts';

// generate()'s loop, loaded on first use; it lives beside the runtime (a lazy chunk), never in the page bundle.
setGenerateLoop(() => import('../generate/generate-here.ts'));

/**
 * 'webgpu', 'wasm' (WebAssembly SIMD kernels), 'js' (plain TypeScript, for pages whose CSP forbids
 * WebAssembly), 'cpu' (onnxruntime-web's alias of 'wasm'), or 'auto': times webgpu and wasm on the
 * model once and remembers the faster per adapter.
 */
export type ExecutionProvider =
  | BackendName
  | 'cpu'
  | 'auto'
  | {
      name: BackendName | 'cpu' | 'auto';
      /** webgpu: kernel forms for a software or a hardware adapter; 'auto' (default) detects it */
      kernelTuning?: KernelTuning;
      /**
       * js (or cpu): run every op's plain reference implementation in TypeScript instead of a fast
       * path: slow, written for clarity; the oracle Kiln's tests compare every backend with, and a
       * way to check a result.
       */
      reference?: boolean;
      /**
       * wasm: the URL prefix the kernel modules (kiln-simd.wasm, kiln-relaxed.wasm) are fetched from,
       * like onnxruntime-web's env.wasm.wasmPaths; default: `wasm/` beside the Kiln bundle.
       */
      wasmPaths?: string;
      /**
       * wasm: threads for the GEMM, the calling one included (onnxruntime-web's env.wasm.numThreads,
       * per session). Default: the machine's cores, at most 4. More than 1 needs SharedArrayBuffer
       * (browsers: a cross-origin isolated page); elsewhere the session runs on 1 thread and
       * adapterInfo says why. lastPlacement.threads says how many run.
       */
      numThreads?: number;
    };

export interface SessionOptions {
  /**
   * tried in order; the first that starts wins. Default ['webgpu', 'wasm', 'js']: WebGPU, else the
   * WebAssembly SIMD CPU backend, else plain TypeScript (a CSP without 'wasm-unsafe-eval').
   */
  executionProviders?: readonly ExecutionProvider[];
  /** external-data files by the name the model uses, for models given as bytes */
  externalData?: readonly { path: string; data: Uint8Array | ArrayBuffer }[];
  /** 'disabled' skips graph optimizations (useful to compare against) */
  graphOptimizationLevel?: 'disabled' | 'all';
  /** cancels loading (the promise rejects with the signal's reason) */
  signal?: AbortSignal;
  /**
   * Browser builds: where the session lives. true (default where Worker exists): the page's shared
   * Kiln worker; 'own': a worker of its own; a Worker running kiln.worker.mjs; false: this thread.
   * Node runs sessions in the calling thread.
   */
  worker?: boolean | 'own' | Worker;
  /** URL sources: bytes downloaded so far and the total (0 when the server does not say) */
  onProgress?: (loaded: number, total: number) => void;
  /** URL sources: keep the model in the Cache API (default true where there is one) */
  cache?: boolean;
  /** URL sources: expected SHA-256 (hex) of the model, checked on download and on every cache hit */
  sha256?: string;
  /** the GPU device was lost; the session moved to a new device or to the CPU (else console.warn) */
  onDeviceLost?: (event: DeviceLostEvent) => void;
  /**
   * .kiln: Ed25519 public key(s) (importKilnPublicKey makes one from 32 raw bytes). A key given
   * means a signature is required: unsigned bundles, ONNX models and signatures no key verifies
   * are INTEGRITY errors, unless allowUnsigned is set. session.verification says what was checked.
   */
  publicKey?: CryptoKey | readonly CryptoKey[];
  /** .kiln: refuse models without a signature that verifies against publicKey (implied by publicKey) */
  requireSignature?: boolean;
  /** with publicKey: still load unsigned bundles and ONNX models (a signed bundle must still verify) */
  allowUnsigned?: boolean;
  /** latency and drift telemetry, reported to `endpoint` when given (docs/telemetry.md); off when absent */
  telemetry?: TelemetryOptions | false;
  /** a drift window alerted (needs `telemetry`); the same as the 'driftalert' event of session.telemetry */
  onDriftAlert?: (alert: DriftAlert) => void;
  /**
   * Where run() leaves outputs (onnxruntime-web's option): 'cpu' (default), 'gpu-buffer' (a tensor
   * whose data stays in a GPUBuffer: getData() downloads it, dispose() frees it; feeding it back to
   * this session binds it with no copy), or per output name. Honoured on WebGPU; on other backends
   * (a fallback from WebGPU included) outputs come back on the CPU: check tensor.location. Sessions in
   * a worker refuse 'gpu-buffer': GPU buffers cannot cross to the page (docs/decisions.md).
   */
  preferredOutputLocation?: OutputLocation | Readonly<Record<string, OutputLocation>>;
  /**
   * onnxruntime's option: symbolic dims of the graph inputs fixed by name ({ batch: 1, height: 640 }),
   * so the session plans (and, for a streamed model, compiles) at create; a run must then feed those
   * sizes. Sizes are positive integers; a name no input uses is ignored, as in onnxruntime.
   */
  freeDimensionOverrides?: FreeDimensionOverrides;
}

export type OutputLocation = 'cpu' | 'gpu-buffer';

export interface InputMetadata {
  readonly name: string;
  readonly isTensor: true;
  readonly type: DataType;
  /** numbers for fixed dims, names for symbolic ones, -1 for unknown */
  readonly shape: readonly (number | string)[];
}

/** Whether the model's signature was checked, and by which key (keyIdOf: SHA-256 of the raw key, 16 hex digits). */
export interface Verification {
  readonly verified: boolean;
  readonly keyId?: string;
}

export type FeedsType = Readonly<Record<string, AnyTensor>>;
export type ReturnType = Record<string, AnyTensor>;

/** A loaded model bound to one backend. Mirrors onnxruntime-web's InferenceSession. */
export class InferenceSession {
  /** graph inputs whose values (not just shapes) decide the plan, e.g. a Reshape target fed at run */
  private readonly hostFedInputs = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private lastPrepared: PreparedPlan | undefined;
  /** how 'auto' chose this session's backend (undefined: the first of the list that started) */
  private choice: BackendChoice | undefined;
  private released = false;
  private telemetryImpl: ActiveTelemetry | undefined;
  private telemetryOff: DisabledTelemetry | undefined;
  /** cold-start phases still to report at the first run (telemetry) */
  private firstRunPending = false;
  /** sessions derive() made on this one's backend, by key: released with this one */
  private readonly derivedSessions = new Map<string, Promise<InferenceSession | undefined>>();
  /** false for a derived session: the backend is its parent's */
  private ownsBackend = true;
  /** derive()'s `carried` where the backend keeps values between runs: inputs a run may leave out */
  private carried: readonly CarriedPair[] = [];
  /** the dims each carried input was last fed with: a run that leaves it out plans for those */
  private readonly carriedMetas = new Map<string, TensorMeta>();
  /** derive()'s: the graph before this backend's own rewrites, and how a rewritten one is made ready for it */
  private base: { graph: Graph; resolve(graph: Graph): Promise<ResolvedGraph> } | undefined;

  private constructor(
    private readonly model: Model,
    private readonly graph: ResolvedGraph,
    private readonly backend: Backend,
    private readonly spec: BundleSpec | undefined,
    private readonly verified: Verification,
    private readonly outputLocation: SessionOptions['preferredOutputLocation'],
  ) {}

  /**
   * Loads a model: a URL or path, bytes, or (as onnxruntime-web) an ArrayBuffer with the model at
   * byteOffset, byteLength bytes long (default: to the end).
   */
  static create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static create(source: ModelSource, options?: SessionOptions): Promise<InferenceSession>;
  static async create(arg0: ModelSource | ArrayBufferLike, arg1?: SessionOptions | number, arg2?: number | SessionOptions, arg3?: SessionOptions): Promise<InferenceSession> {
    const { source, options = {} } = createArguments<SessionOptions>(arg0, arg1, arg2, arg3);
    const createStarted = performance.now();
    // Loaded only when asked for (pages without telemetry never download it); options checked before any download.
    const telemetry = options.telemetry ? await import('../telemetry/session-telemetry.ts') : undefined;
    if (telemetry && options.telemetry) telemetry.checkTelemetryOptions(options.telemetry);
    const providers = providersWithEnv(options.executionProviders) ?? DEFAULT_PROVIDERS;
    checkOutputLocation(options.preferredOutputLocation);
    checkFreeDimensionOverrides(options.freeDimensionOverrides);
    const auto = providers.some((p) => (typeof p === 'string' ? p : p.name) === 'auto');
    // .kiln: the backend starts (and takes weights) while the bundle streams; 'auto' decides after.
    const early = new StreamedStart(auto ? undefined : () => startBackend(providers, options.onDeviceLost), options.graphOptimizationLevel !== 'disabled', options.freeDimensionOverrides);
    let loaded: LoadedModel;
    let resolved: ResolvedGraph;
    let parsedAt: number;
    try {
      loaded = await loadModel(source, { ...options, kilnEvents: early.events, onnxEvents: early.onnxEvents });
      // Op families outside the core set load now, before the passes (which read their definitions);
      // again after them, for any op a pass introduced.
      await Promise.all([loadOpFamiliesFor(allNodes(loaded.model.graph)), loadGraphPassesFor(loaded.model.graph.nodes)]);
      const graph = options.graphOptimizationLevel === 'disabled' ? loaded.model.graph : optimizeGraph(loaded.model);
      await loadOpFamiliesFor(allNodes(graph));
      resolved = resolveGraph(loaded.model, graph); // names every unsupported op before any device work
      await loadControlFlowFor(graph.nodes);
      parsedAt = performance.now();
      await commitModelCache(loaded.bytes); // only a model that reads is kept in the cache
      options.signal?.throwIfAborted();
    } catch (e) {
      await early.abandon();
      throw e;
    }
    const { model, bytes, bundle } = loaded;
    const verification: Verification = bundle?.signature === 'valid' ? { verified: true, ...(bundle.keyId ? { keyId: bundle.keyId } : {}) } : { verified: false };
    const start = async (providers: readonly ExecutionProvider[], backend?: Promise<Backend>): Promise<InferenceSession> => {
      const started = await (backend ?? startBackend(providers, options.onDeviceLost));
      const forBackend = options.graphOptimizationLevel === 'disabled' ? resolved : await withBackendPasses(model, resolved, started.name);
      const session = new InferenceSession(model, forBackend, started, bundle?.spec, verification, options.preferredOutputLocation);
      const resolveFor = async (graph: Graph): Promise<ResolvedGraph> => {
        const r = resolveGraph(model, graph);
        return options.graphOptimizationLevel === 'disabled' ? r : withBackendPasses(model, r, started.name);
      };
      session.base = { graph: resolved.graph, resolve: resolveFor };
      registerDeriver(session, (key, rewrite, options) => InferenceSession.derive(session, key, rewrite, options));
      session.checkOutputNames();
      await session.precompile().catch(async (e: unknown) => {
        await session.release(); // gives the device back
        throw e;
      });
      return session;
    };
    // { name: 'auto', wasmPaths, numThreads, kernelTuning } passes its options to the backends it tries.
    const autoOptions = providers.find((p): p is Exclude<ExecutionProvider, string> => typeof p !== 'string' && p.name === 'auto');
    const withAutoOptions = (names: readonly BackendName[]): ExecutionProvider[] => names.map((name) => (autoOptions ? { ...autoOptions, name, reference: false } : name));
    // 'auto' alone measures: its code is a chunk of its own (docs/decisions.md "free-dims").
    const chooser = auto ? await import('./backend-choice.ts') : undefined;
    const session = await (chooser ? chooser.chooseBackend(bytes, (names) => start(withAutoOptions(names))) : start(providers, early.started));
    session.choice = chooser?.choiceOf(session);
    if (telemetry && options.telemetry) {
      const fetchMs = loaded.timings.fetchMs;
      await session.startTelemetry(telemetry, options, { fetch: fetchMs, parse: parsedAt - createStarted - fetchMs, total: performance.now() - createStarted });
    }
    return session;
  }

  /**
   * For Kiln's own helpers (generate()'s KV cache written in place), not the public API: a session
   * on this one's backend and weights that runs `rewrite(graph)` instead, made once per key and
   * released with this one; undefined when `rewrite` declines. `gpuOutputs` stay on the GPU (on
   * WebGPU) besides those the session's preferredOutputLocation names: generate()'s presents, fed
   * back as the next pasts, in a worker too (whose sessions cannot hand GPU buffers out). `carried`
   * (wasm only: its memory keeps values between runs; carriedBy() tells): inputs a run may leave
   * out, each then the value the previous run of the same plan wrote into its output, which never
   * leaves the backend unless fetched. Static, so the worker front-end,
   * which mirrors the instance members, does not have to carry it; generate() finds it through
   * derived-sessions.ts.
   */
  static derive(session: InferenceSession, key: string, rewrite: (graph: Graph) => Graph | undefined, options: DeriveOptions = {}): Promise<InferenceSession | undefined> {
    const { gpuOutputs = [], carried = [] } = options;
    if (session.released) fail('RELEASED', 'this session was released');
    let made = session.derivedSessions.get(key);
    if (!made) {
      made = (async () => {
        // The rewrite sees the graph before the backend's own passes (their fusions would hide the
        // patterns it looks for); those passes then run on what it returns.
        const graph = rewrite(session.base?.graph ?? session.graph.graph);
        if (!graph) return undefined;
        await loadOpFamiliesFor(graph.nodes);
        const resolved = session.base ? await session.base.resolve(graph) : resolveGraph(session.model, graph);
        const where = session.outputLocation;
        const outputLocation = gpuOutputs.length === 0 || where === 'gpu-buffer' ? where : { ...(typeof where === 'object' ? where : {}), ...Object.fromEntries(gpuOutputs.map((n) => [n, 'gpu-buffer' as const])) };
        const child = new InferenceSession(session.model, resolved, session.backend, session.spec, session.verified, outputLocation);
        child.ownsBackend = false;
        if (session.backend.name === 'wasm' && carried.length > 0) {
          for (const c of carried) if (!child.inputNames.includes(c.input) || !child.outputNames.includes(c.output)) fail('INTERNAL', `derive: carried '${c.input}' -> '${c.output}' is not an input/output pair of the derived graph`);
          child.carried = carried;
          registerCarried(child, carried);
        }
        return child;
      })();
      session.derivedSessions.set(key, made);
      made.catch(() => session.derivedSessions.delete(key));
    }
    return made;
  }

  /** latency and drift measured for this session (docs/telemetry.md); `enabled` is false without options.telemetry */
  get telemetry(): SessionTelemetry {
    return this.telemetryImpl ?? (this.telemetryOff ??= new DisabledTelemetry());
  }

  private async startTelemetry(module: typeof import('../telemetry/session-telemetry.ts'), options: SessionOptions, coldStart: { fetch: number; parse: number; total: number }): Promise<void> {
    const meta = this.spec?.metadata;
    try {
      this.telemetryImpl = await module.ActiveTelemetry.create(options.telemetry || {}, {
        ...(meta?.name !== undefined ? { modelName: meta.name } : {}),
        ...(meta?.version !== undefined ? { modelVersion: meta.version } : {}),
        ...(meta?.drift ? { driftReference: meta.drift } : {}),
        backend: () => ({ name: this.backend.name, adapter: this.backend.adapterInfo }),
        ...(options.onDriftAlert ? { onDriftAlert: options.onDriftAlert } : {}),
      });
    } catch (e) {
      await this.release();
      throw e;
    }
    // Precompiled at create: upload and compile are known now; otherwise they come with the first run.
    const timings = this.lastPreparedTimings;
    this.telemetryImpl.recordColdStart({ ...coldStart, ...(timings ? { upload: timings.uploadMs, compile: timings.compileMs } : {}) });
    this.firstRunPending = true;
  }

  /** the first prepared plan's upload and compile times */
  private lastPreparedTimings: PreparedPlan['timings'];

  get inputNames(): string[] {
    return this.graph.graph.inputs.map((i) => i.name);
  }

  get outputNames(): string[] {
    return this.graph.graph.outputs.map((o) => o.name);
  }

  get inputMetadata(): InputMetadata[] {
    return this.graph.graph.inputs.map((i) => ({ name: i.name, isTensor: true, type: i.dtype, shape: (i.dims ?? []).map((d) => d ?? -1) }));
  }

  get outputMetadata(): InputMetadata[] {
    return this.graph.graph.outputs.map((o) => ({ name: o.name, isTensor: true, type: o.dtype, shape: (o.dims ?? []).map((d) => d ?? -1) }));
  }

  /** a .kiln bundle's input/output specs, labels and metadata; undefined for ONNX models */
  get bundle(): BundleSpec | undefined {
    return this.spec;
  }

  /** whether the model's signature verified against options.publicKey, and by which key */
  get verification(): Verification {
    return this.verified;
  }

  /** which backend runs this session: 'webgpu', 'wasm' or 'js' ('cpu' in the options starts 'wasm') */
  get executionProvider(): BackendName {
    return this.backend.name;
  }

  get adapterInfo(): string {
    return this.backend.adapterInfo;
  }

  /** how the backend was picked ('auto' measures); executionProvider says where it runs now */
  get backendChoice(): BackendChoice {
    return this.choice ?? { mode: 'list', chosen: this.backend.name, reason: 'first-that-started' };
  }

  /** The GPUDevice of a WebGPU session (undefined elsewhere): make buffers for Tensor.fromGpuBuffer on it. */
  get gpuDevice(): GpuDevice | undefined {
    return this.backend instanceof RecoveringBackend ? this.backend.gpu?.device : undefined;
  }

  /** Diagnostics on WebGPU: GPUBuffers (and their bytes) this session's device has had created so far. */
  get gpuAllocations(): { readonly buffers: number; readonly bytes: number } | undefined {
    const gpu = this.backend instanceof RecoveringBackend ? this.backend.gpu : undefined;
    return gpu ? { ...gpu.allocations } : undefined;
  }

  /**
   * Diagnostics on WebGPU: pipelines compiled ahead (a streamed .kiln: from the graph's shapes while
   * the weights download), on demand (by a plan: after the last byte), claimed and dropped.
   */
  get pipelineCompiles(): PipelineCounts | undefined {
    return this.backend instanceof RecoveringBackend ? this.backend.pipelineCounts : undefined;
  }

  private checkOutputNames(): void {
    const where = this.outputLocation;
    if (typeof where !== 'object' || where === null) return;
    for (const name of Object.keys(where)) if (!this.outputNames.includes(name)) fail('INVALID_ARGUMENT', `preferredOutputLocation names '${name}', which is not an output; the model's outputs are ${this.outputNames.join(', ')}`);
  }

  /** indices into `outputs` to leave on the GPU, when this session runs on WebGPU */
  /** Outputs left in GPU buffers: preferredOutputLocation's, except those given a CPU tensor to fill. */
  private gpuOutputsOf(outputs: readonly string[], preallocated: ReadonlyMap<string, AnyTensor>): Set<number> | undefined {
    const where = this.outputLocation;
    if (!where || this.backend.name !== 'webgpu') return undefined;
    const picked = outputs.flatMap((name, i) => (!preallocated.has(name) && (typeof where === 'string' ? where : where[name]) === 'gpu-buffer' ? [i] : []));
    return picked.length > 0 ? new Set(picked) : undefined;
  }

  /** Diagnostics: where the steps of the most recent plan ran. */
  get lastPlacement(): Placement | undefined {
    return this.lastPrepared?.placement;
  }

  /** the model's metadata_props and producer */
  get modelMetadata(): { producer: string; opsets: Record<string, number>; props: Record<string, string> } {
    return { producer: this.model.producer, opsets: Object.fromEntries(this.model.opsets), props: Object.fromEntries(this.model.metadata) };
  }

  /**
   * Runs the model. Runs are serialized per session; feeds are validated before any work. The
   * arguments after the feeds are onnxruntime-web's (run-arguments.ts): options, or fetches (output
   * names, or names mapped to null or to a pre-allocated CPU tensor that is filled in place and
   * returned) and then options.
   */
  run(feeds: FeedsType, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<ReturnType> {
    let args: RunArguments;
    try {
      args = runArguments(this.outputNames, fetches, options);
    } catch (e) {
      return Promise.reject(e);
    }
    const calledAt = this.telemetryImpl ? performance.now() : 0;
    const result = this.queue.then(() => (this.telemetryImpl ? this.runMeasured(feeds, args, calledAt) : this.runNow(feeds, args)));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.queue;
    for (const d of this.derivedSessions.values()) await (await d.catch(() => undefined))?.release();
    this.derivedSessions.clear();
    await this.planCache.clear();
    if (this.ownsBackend) this.backend.release();
    await this.telemetryImpl?.release(); // a last batch, queued durably where it cannot go now
  }

  /** runNow with telemetry: latency by phase, errors by code, the drift monitor, cold start's first run. */
  private async runMeasured(feeds: FeedsType, fetches: RunArguments, calledAt: number): Promise<ReturnType> {
    const t = this.telemetryImpl!;
    const startedAt = performance.now();
    const timing = newRunTiming();
    let out: ReturnType;
    try {
      out = await this.runNow(feeds, fetches, timing);
    } catch (e) {
      t.recordError(typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'UNKNOWN');
      throw e;
    }
    const endedAt = performance.now();
    t.recordRun(calledAt, startedAt, endedAt, timing);
    if (this.firstRunPending) {
      this.firstRunPending = false;
      const p = this.lastPreparedTimings;
      t.recordColdStart({ first_run: endedAt - calledAt, ...(p ? { upload: p.uploadMs, compile: p.compileMs } : {}) });
    }
    if (Object.values(out).every((o) => o.location === 'cpu') && Object.values(feeds).every((f) => f.location === 'cpu')) t.observe(feeds, out); // drift reads host data only
    return out;
  }

  private async runNow(feeds: FeedsType, fetches: RunArguments, timing?: RunTiming): Promise<ReturnType> {
    if (this.released) fail('RELEASED', 'this session was released');
    feeds = asKilnTensors(feeds);
    const metas = this.validateFeeds(feeds);
    const outputs = fetches.names;
    const prepared = await this.planFor(metas, feeds, outputs);
    const ids = new Map<number, AnyTensor>();
    const plan = prepared.plan;
    for (const [name, id] of plan.inputIds) if (plan.values[id]!.kind === 'input' && feeds[name]) ids.set(id, feeds[name]); // a carried input left out is the backend's
    // pre-allocated outputs are checked against the plan before any work; they stay on the CPU
    const into = new Map<number, AnyTensor>();
    outputs.forEach((name, i) => {
      const t = fetches.into.get(name);
      if (!t) return;
      const meta = plan.values[plan.outputIds[i]!]!.meta;
      checkOutputTensor(name, t, meta.dtype, meta.dims);
      into.set(i, t);
    });
    this.lastPrepared = prepared.prepared;
    const gpuOutputs = this.gpuOutputsOf(outputs, fetches.into);
    const io = gpuOutputs || into.size > 0 ? { ...(gpuOutputs ? { gpuOutputs } : {}), ...(into.size > 0 ? { into } : {}) } : undefined;
    const results = await prepared.prepared.run(ids, timing, io);
    // Constant outputs are the plan's own tensors: hand out copies so callers (and the worker's
    // zero-copy transfer) cannot change what later runs return.
    const fresh = (t: AnyTensor, i: number): AnyTensor => {
      const dest = into.get(i);
      if (dest) return fillOutput(outputs[i]!, dest, t);
      return plan.values[plan.outputIds[i]!]!.kind === 'const' ? new Tensor(t.type, t.data.slice(), t.dims) : t;
    };
    return Object.fromEntries(outputs.map((name, i) => [name, fresh(results[i]!, i)]));
  }

  private validateFeeds(feeds: FeedsType): Map<string, TensorMeta> {
    if (typeof feeds !== 'object' || feeds === null) fail('INPUT_MISMATCH', 'run() takes an object mapping input names to Tensors');
    const expected = this.graph.graph.inputs;
    const names = expected.map((i) => i.name);
    for (const k of Object.keys(feeds)) if (!names.includes(k)) fail('INPUT_MISMATCH', `unknown input '${k}'; the model's inputs are ${names.join(', ')}`);
    const metas = new Map<string, TensorMeta>();
    for (const info of expected) {
      const t = feeds[info.name];
      const carriedMeta = t ? undefined : this.carriedMetas.get(info.name);
      if (carriedMeta) {
        metas.set(info.name, carriedMeta); // kept by the backend since the run that fed it
        continue;
      }
      if (!t) fail('INPUT_MISMATCH', `missing input '${info.name}' (${describeInfo(info.dtype, info.dims)})${this.carried.some((c) => c.input === info.name) ? '; a carried input is left out only after a run that fed it' : ''}`);
      if (typeof t !== 'object' || !('dims' in t) || !('type' in t) || !('data' in t)) fail('INPUT_MISMATCH', `input '${info.name}' is not a Tensor`);
      if (t.location === 'none') fail('INPUT_MISMATCH', `input '${info.name}': this GPU tensor was disposed`, { input: info.name });
      if (t.location === 'gpu-buffer' && this.backend.name !== 'webgpu') fail('INPUT_MISMATCH', `input '${info.name}' is a gpu-buffer tensor but this session runs on ${this.backend.name}; await tensor.getData() and feed a CPU tensor`, { input: info.name });
      if (t.type !== info.dtype) fail('INPUT_MISMATCH', `input '${info.name}': expected ${info.dtype}, given ${t.type}`, { input: info.name, expected: info.dtype, given: t.type });
      if (info.dims) {
        const ok = t.dims.length === info.dims.length && info.dims.every((d, i) => typeof d !== 'number' || d === t.dims[i]);
        if (!ok) fail('INPUT_MISMATCH', `input '${info.name}': expected shape [${info.dims.map((d) => d ?? '?').join(', ')}], given [${t.dims.join(', ')}]`, { input: info.name, expected: info.dims, given: t.dims });
      }
      metas.set(info.name, { dtype: t.type, dims: t.dims });
      if (this.carried.some((c) => c.input === info.name)) this.carriedMetas.set(info.name, { dtype: t.type, dims: t.dims });
    }
    return metas;
  }

  private async planFor(metas: ReadonlyMap<string, TensorMeta>, feeds: FeedsType | undefined, outputs: readonly string[]): Promise<{ plan: ReturnType_<typeof buildPlan>; prepared: PreparedPlan }> {
    for (;;) {
      const hostFeeds = new Map<string, AnyTensor>();
      for (const name of this.hostFedInputs) {
        const t = feeds?.[name];
        if (!t) return fail('INTERNAL', `input '${name}' decides shapes but no value is known yet`);
        hostFeeds.set(name, t);
      }
      const key = planKey(metas, hostFeeds, outputs);
      const cached = this.planCache.get(key);
      if (cached) return cached;
      let plan: ReturnType_<typeof buildPlan>;
      try {
        plan = buildPlan(this.graph, metas, hostFeeds, outputs, this.carried);
      } catch (e) {
        if (!(e instanceof HostValueNeeded)) throw e;
        const sources = this.inputsFeeding(e.valueName);
        if (!feeds && sources.length > 0) throw e; // precompiling: plan at the first run instead
        if (sources.length === 0 || sources.every((s) => this.hostFedInputs.has(s))) {
          fail('UNSUPPORTED_FEATURE', `node '${e.nodeName}' needs the value of '${e.valueName}' to know its output shape, and that value is computed on the device (data-dependent shapes are not supported yet)`);
        }
        for (const s of sources) this.hostFedInputs.add(s);
        continue;
      }
      const entry = this.backend.prepare(plan).then((prepared) => {
        this.lastPreparedTimings ??= prepared.timings;
        return { plan, prepared };
      });
      // A session whose backend carries values between runs (generate()'s in-place cache on wasm)
      // keeps them in its plans' memory: it keeps every plan (its shapes are few: prompt and step).
      this.planCache.set(key, entry, this.carried.length > 0 ? Infinity : MAX_CACHED_PLANS);
      return entry;
    }
  }

  private readonly planCache = new PlanCache<{ plan: ReturnType_<typeof buildPlan>; prepared: PreparedPlan }>();

  /** Graph inputs that `valueName` is computed from. */
  private inputsFeeding(valueName: string): string[] {
    const inputs = new Set(this.inputNames);
    const producer = new Map<string, readonly string[]>();
    for (const { node } of this.graph.nodes) for (const o of node.outputs) producer.set(o, node.inputs);
    const found = new Set<string>();
    const seen = new Set<string>();
    // A value inside an If's branch or a Loop's body (named '<node>/...' by the planner) comes from that node's inputs: its condition, trip count, carried values and what its subgraphs read.
    const owner = producer.has(valueName) || inputs.has(valueName) ? undefined : this.graph.nodes.find(({ node }) => node.attrs.has(CAPTURES_ATTR) && valueName.startsWith(`${node.name}/`));
    const stack = owner ? [...owner.node.inputs] : [valueName];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      if (inputs.has(v)) found.add(v);
      for (const i of producer.get(v) ?? []) if (i) stack.push(i);
    }
    return [...found];
  }

  /**
   * With fully static input shapes, plan and compile now so the first run() does no setup. With only a
   * symbolic batch (plannableInputs), compile the pipelines of a batch-1 plan now (a GPU backend's
   * prewarm; nothing is allocated or kept for that shape): the first run plans, and finds them compiled.
   */
  private async precompile(): Promise<void> {
    const inputs = plannableInputs(this.graph.graph.inputs);
    if (!inputs) return;
    if (inputs.guessed) {
      if (!this.backend.prewarm) return;
      let plan: ReturnType_<typeof buildPlan>;
      try {
        plan = buildPlan(this.graph, inputs.metas, new Map(), this.outputNames, this.carried);
      } catch {
        return; // a guess the graph rejects (a Reshape to a fixed batch): planned at the first run
      }
      this.backend.prewarm(plan);
      return;
    }
    try {
      await this.planFor(inputs.metas, undefined, this.outputNames);
    } catch (e) {
      // Inputs whose values decide shapes can only be planned at the first run.
      if (!(e instanceof HostValueNeeded)) throw e;
    }
  }
}

function checkOutputLocation(where: unknown): void {
  if (where === undefined) return;
  const ok = (v: unknown): boolean => v === 'cpu' || v === 'gpu-buffer';
  if (typeof where === 'string' ? ok(where) : typeof where === 'object' && where !== null && Object.values(where).every(ok)) return;
  fail('INVALID_ARGUMENT', `preferredOutputLocation must be 'cpu', 'gpu-buffer' or a record of output names to those, got ${JSON.stringify(where)}`);
}

type ReturnType_<F> = F extends (...args: never[]) => infer R ? R : never;

function planKey(metas: ReadonlyMap<string, TensorMeta>, hostFeeds: ReadonlyMap<string, AnyTensor>, outputs: readonly string[]): string {
  const parts: string[] = [];
  for (const [name, m] of metas) parts.push(`${name}:${m.dtype}[${m.dims.join(',')}]`);
  for (const [name, t] of hostFeeds) parts.push(`${name}=${Array.from(t.data as ArrayLike<unknown>, String).join(',')}`);
  parts.push(`->${outputs.join(',')}`);
  return parts.join('|');
}

function describeInfo(dtype: DataType, dims: readonly Dim[] | undefined): string {
  return `${dtype}[${(dims ?? []).map((d) => d ?? '?').join(', ')}]`;
}


async function startBackend(providers: readonly ExecutionProvider[], onDeviceLost?: (event: DeviceLostEvent) => void): Promise<Backend> {
  const reasons: string[] = [];
  for (const p of providers) {
    const name = typeof p === 'string' ? p : p.name;
    const reference = typeof p !== 'string' && p.reference === true;
    try {
      // The reference kernels are TypeScript: { name: 'cpu', reference: true } keeps meaning them.
      if (name === 'js' || (name === 'cpu' && reference)) return new JsBackend(reference ? 'reference' : 'fast');
      if (name === 'wasm' || name === 'cpu') {
        // Loaded when this backend starts: the WebGPU path's download does not carry it (docs/decisions.md, bundle).
        const started = import('../backends/wasm/start-wasm.ts').then(({ startWasmBackend }) => startWasmBackend(typeof p === 'string' ? {} : { wasmPaths: p.wasmPaths, numThreads: p.numThreads }));
        // 'cpu' asks for the CPU, not for WebAssembly: where the module cannot run, plain TypeScript does.
        return name === 'cpu' ? await started.catch((e: unknown) => (e instanceof KilnError && e.code === 'INVALID_ARGUMENT' ? Promise.reject(e) : new JsBackend('fast', `wasm could not start: ${(e as Error).message}`))) : await started;
      }
      if (name === 'webgpu') return new RecoveringBackend(await WebGpuBackend.create(typeof p === 'string' ? 'auto' : p.kernelTuning), onDeviceLost);
      reasons.push(`${String(name)}: unknown execution provider`);
    } catch (e) {
      if (e instanceof KilnError && e.code === 'INVALID_ARGUMENT') throw e; // a bad option (numThreads) is the caller's error, not a backend that cannot start
      reasons.push(`${name}: ${(e as Error).message}`);
    }
  }
  return fail('DEVICE_UNAVAILABLE', `no execution provider could start: ${reasons.join('; ')}`);
}

/**
 * Feeds that are not Kiln Tensors (onnxruntime-web's, plain { type, data, dims } objects) go
 * through the Tensor constructor: their data length is checked against dims, and packed
 * int4/uint4 data is unpacked as onnxruntime-web packs it.
 */
function asKilnTensors(feeds: FeedsType): FeedsType {
  if (typeof feeds !== 'object' || feeds === null) return feeds; // validateFeeds reports it
  let out: Record<string, AnyTensor> | undefined;
  // unknown: callers in plain JS pass anything; FeedsType only says what a well-typed caller gives.
  for (const [name, t] of Object.entries(feeds as Readonly<Record<string, unknown>>)) {
    if (t instanceof Tensor || !isTensorLike(t)) continue;
    if (isGpuTensorLike(t)) {
      // another bundle's gpu-buffer tensor (kiln.core.mjs beside kiln.mjs): its buffer, wrapped
      (out ??= { ...feeds })[name] = gpuBufferTensor(t.gpuBuffer, { dataType: t.type, dims: t.dims, download: () => t.getData(), dispose: () => t.dispose() });
      continue;
    }
    try {
      (out ??= { ...feeds })[name] = new Tensor(t.type, t.data, t.dims);
    } catch (e) {
      if (e instanceof KilnError) fail('INPUT_MISMATCH', `input '${name}': ${e.message.replace(/^\[\w+\] /, '')}`, { input: name });
      throw e;
    }
  }
  return out ?? feeds;
}

const isGpuTensorLike = (t: object): t is AnyTensor => 'location' in t && t.location === 'gpu-buffer' && 'gpuBuffer' in t;

const isTensorLike = (t: unknown): t is { type: DataType; data: TypedArrayOf[DataType]; dims: readonly number[] } =>
  typeof t === 'object' && t !== null && 'dims' in t && 'type' in t && 'data' in t;

/** The graph with the rewrites that pay on this backend only (optimize.ts); the same graph when none apply. */
async function withBackendPasses(model: Model, resolved: ResolvedGraph, backend: string): Promise<ResolvedGraph> {
  const graph = optimizeForBackend(model, resolved.graph, backend);
  if (graph === resolved.graph) return resolved;
  await loadOpFamiliesFor(graph.nodes); // ops the passes introduced (wasm: Attention; WebGPU: MultiHeadAttention)
  return resolveGraph(model, graph);
}
