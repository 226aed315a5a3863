// The one place that defines what crosses between the page and the Kiln worker: the calls the
// worker answers (HostApi, made over comlink), the shape of tensors and session facts on the wire,
// what is transferred rather than copied, and how errors keep their class, code, message and stack.
import { transferHandlers } from 'comlink';
import type { BackendName, Placement } from '../backends/backend.ts';
import type { DataType, TensorData } from '../../core/dtype.ts';
import { KilnError, type KilnErrorCode } from '../../core/errors.ts';
import type { BackendChoice } from '../api/backend-choice.ts';
import type { DeviceLostEvent } from '../api/device-events.ts';
import type { ModelSource } from '../api/model-source.ts';
import type { FlushResult, TelemetrySnapshot } from '../telemetry/telemetry-api.ts';
import type { BundleSpec } from '../format/kiln/bundle-spec.ts';
import type { Verification } from '../api/inference-session.ts';
import type { GenerateOptions, GenerateResult } from '../generate/generate.ts';

/** Workers Kiln starts carry this name; a script that sees it in `self.name` serves HostApi. */
export const WORKER_NAME = 'kiln-worker';

export interface WireTensor {
  readonly type: DataType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export type WireTensors = Record<string, WireTensor>;

export interface WireError {
  /** which constructor to rebuild: ours, the platform's DOMException, or a built-in Error class */
  readonly kind: 'KilnError' | 'DOMException' | 'Error';
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Session options that cross as data; callbacks and the AbortSignal are handled by the caller. */
export interface WireOptions {
  readonly executionProviders?: readonly (string | { name: string })[];
  readonly externalData?: readonly { path: string; data: Uint8Array | ArrayBuffer }[];
  readonly graphOptimizationLevel?: 'disabled' | 'all';
  readonly cache?: boolean;
  readonly sha256?: string;
  /** checked by the session in the worker: a bad one comes back as its KilnError (INVALID_ARGUMENT) */
  readonly freeDimensionOverrides?: Readonly<Record<string, number>>;
  readonly [other: string]: unknown;
}

export interface CreateRequest {
  /** names this load for abort() */
  readonly requestId: number;
  /** bytes, or an absolute URL (the worker's base URL is its script, not the page) */
  readonly source: ModelSource;
  readonly options: WireOptions;
}

export interface SessionInfo {
  readonly id: number;
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly inputMetadata: { readonly name: string; readonly isTensor: true; readonly type: DataType; readonly shape: readonly (number | string)[] }[];
  readonly outputMetadata: SessionInfo['inputMetadata'];
  readonly executionProvider: BackendName;
  readonly adapterInfo: string;
  readonly modelMetadata: { producer: string; opsets: Record<string, number>; props: Record<string, string> };
  readonly backendChoice: BackendChoice;
  /** a .kiln bundle's spec (plain JSON data), undefined for ONNX */
  readonly bundle: BundleSpec | undefined;
  readonly verification: Verification;
  /** the session was created with options.telemetry */
  readonly telemetryEnabled: boolean;
}

/** run() answers with the outputs or the error, and always with the caller's input buffers. */
export interface RunReply {
  readonly inputs: WireTensors;
  /** the pre-allocated outputs that came with the run, filled when it succeeded; never also in outputs */
  readonly into?: WireTensors;
  readonly outputs?: WireTensors;
  readonly state?: SessionState;
  readonly error?: WireError;
}

export interface SessionState {
  readonly executionProvider: BackendName;
  readonly adapterInfo: string;
  readonly placement: Placement | undefined;
}

/** generate()'s options as data: onToken crosses as a callback of its own, the signal as abortGenerate() */
export type WireGenerateOptions = Omit<GenerateOptions, 'onToken' | 'signal'>;

/** A session.telemetry event (TELEMETRY_EVENTS) raised in the worker, re-dispatched in the page. */
export type TelemetryEventListener = (type: string, detail: unknown) => void;

/** The worker's side of the conversation. Callback arguments arrive as comlink proxies. */
export interface HostApi {
  create(request: CreateRequest, onProgress?: (loaded: number, total: number) => void, onDeviceLost?: (event: DeviceLostEvent) => void, onTelemetryEvent?: TelemetryEventListener): Promise<SessionInfo>;
  telemetrySnapshot(id: number): Promise<TelemetrySnapshot>;
  /** keepalive: the page is being hidden or unloaded (fetch keepalive, small bodies) */
  telemetryFlush(id: number, keepalive: boolean): Promise<FlushResult>;
  /** fetches and options as run() takes them (plain data: pre-allocated tensors stay in the page) */
  /** `into`: pre-allocated outputs whose buffers travel here to be filled, then back in RunReply.into (fetches is then their names' list) */
  run(id: number, feeds: WireTensors, fetches: unknown, options: unknown, into?: WireTensors): Promise<RunReply>;
  release(id: number): Promise<void>;
  /** generate() on the session, here where its cache can stay (in place, on the GPU); onToken is awaited per token */
  generate(id: number, generation: number, options: WireGenerateOptions, onToken?: (token: number, index: number) => void): Promise<GenerateResult>;
  /** aborts the generate() call with this number: it rejects with ABORTED and the tokens so far */
  abortGenerate(generation: number, reason: string): void;
  /** cancels the create() with this requestId */
  abort(requestId: number): void;
}

// --- tensors ---------------------------------------------------------------------------------

export function toWire(t: { readonly type: DataType; readonly dims: readonly number[]; readonly data: TensorData }): WireTensor {
  return { type: t.type, dims: [...t.dims], data: t.data };
}

/**
 * Buffers to transfer for these tensors: each ArrayBuffer once. Shared memory is shared, not moved;
 * string tensors are copied.
 */
export function transferList(tensors: Iterable<WireTensor>, keep: ReadonlySet<ArrayBufferLike> = new Set()): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of tensors) {
    if (Array.isArray(t.data) || keep.has(t.data.buffer)) continue;
    if (t.data.buffer instanceof ArrayBuffer && t.data.buffer.byteLength > 0) out.add(t.data.buffer);
  }
  return [...out];
}

// --- errors ----------------------------------------------------------------------------------

const BUILT_IN: Readonly<Record<string, ErrorConstructor>> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function cloneableDetails(details: unknown): Readonly<Record<string, unknown>> | undefined {
  if (details === undefined || details === null || typeof details !== 'object') return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>; // whatever survives as data
  } catch {
    return undefined;
  }
}

/** Anything thrown -> plain data. KilnErrors are recognised by shape (another bundle's class counts). */
export function serializeError(e: unknown): WireError {
  if (typeof e !== 'object' || e === null) return { kind: 'Error', name: 'Error', message: String(e) };
  const { name, message, stack, code, details } = e as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; details?: unknown };
  const base = { name: typeof name === 'string' ? name : 'Error', message: typeof message === 'string' ? message : String(e), ...(typeof stack === 'string' ? { stack } : {}) };
  if (base.name === 'KilnError' && typeof code === 'string') return { kind: 'KilnError', ...base, code, details: cloneableDetails(details) };
  if (typeof DOMException !== 'undefined' && e instanceof DOMException) return { kind: 'DOMException', ...base };
  return { kind: 'Error', ...base };
}

/** The same error again, as an instance of this bundle's classes. */
export function reviveError(w: WireError): Error {
  let err: Error;
  if (w.kind === 'KilnError') {
    // The code came from a KilnError in our own worker; the constructor re-adds the "[CODE] " prefix.
    const code = w.code as KilnErrorCode;
    const prefix = `[${code}] `;
    err = new KilnError(code, w.message.startsWith(prefix) ? w.message.slice(prefix.length) : w.message, w.details);
    if (err.message !== w.message) Object.defineProperty(err, 'message', { value: w.message, configurable: true, writable: true });
  } else if (w.kind === 'DOMException' && typeof DOMException !== 'undefined') {
    err = new DOMException(w.message, w.name);
  } else {
    err = new (BUILT_IN[w.name] ?? Error)(w.message);
    if (err.name !== w.name) Object.defineProperty(err, 'name', { value: w.name, configurable: true, writable: true });
  }
  if (w.stack !== undefined) Object.defineProperty(err, 'stack', { value: w.stack, configurable: true, writable: true });
  return err;
}

/** Errors a comlink call throws cross as WireError (comlink's default keeps only message and name). */
export function installErrorTransfer(): void {
  const base = transferHandlers.get('throw');
  if (!base) return;
  transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize: (thrown: unknown) => [serializeError((thrown as { value: unknown }).value), []],
    deserialize: (w: unknown) => {
      throw reviveError(w as WireError);
    },
  });
}
