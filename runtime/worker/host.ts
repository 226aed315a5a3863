// The worker side: holds the real sessions and answers HostApi calls (runtime/worker/protocol.ts).
// Loading, parsing, planning, GPU work and CPU kernels all happen here, off the page's thread.
import { expose, releaseProxy, transfer, type Endpoint, type Remote } from 'comlink';
import type { DeviceLostEvent } from '../api/device-events.ts';
import { InferenceSession, type SessionOptions } from '../api/inference-session.ts';
import type { FetchesType, RunOptions } from '../api/run-arguments.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError, fail } from '../../core/errors.ts';
import { TELEMETRY_EVENTS } from '../telemetry/telemetry-api.ts';
import { installErrorTransfer, serializeError, toWire, transferList, type HostApi, type RunReply, type SessionInfo, type TelemetryEventListener, type WireTensors } from './protocol.ts';

type Callback<A extends unknown[]> = Remote<(...args: A) => void>;

interface Hosted {
  readonly session: InferenceSession;
  readonly onDeviceLost?: Callback<[DeviceLostEvent]>;
  readonly onTelemetryEvent?: Callback<Parameters<TelemetryEventListener>>;
}

export function exposeHost(endpoint: Endpoint): void {
  installErrorTransfer();
  const sessions = new Map<number, Hosted>();
  const loads = new Map<number, AbortController>();
  const generations = new Map<number, AbortController>();
  let nextId = 1;

  const api: HostApi = {
    async create(request, onProgress, onDeviceLost, onTelemetryEvent) {
      const abort = new AbortController();
      loads.set(request.requestId, abort);
      // Remote callbacks: fire and forget; a page that went away must not fail the load.
      const progress = onProgress as Callback<[number, number]> | undefined;
      const lost = onDeviceLost as Callback<[DeviceLostEvent]> | undefined;
      const telemetryEvents = onTelemetryEvent as Callback<Parameters<TelemetryEventListener>> | undefined;
      const options: SessionOptions = {
        ...request.options,
        executionProviders: request.options.executionProviders as SessionOptions['executionProviders'],
        worker: false,
        signal: abort.signal,
        ...(progress ? { onProgress: (loaded: number, total: number) => void progress(loaded, total).catch(() => undefined) } : {}),
        ...(lost ? { onDeviceLost: (e: DeviceLostEvent) => void lost(e).catch(() => undefined) } : {}),
      };
      let session: InferenceSession | undefined;
      try {
        session = await InferenceSession.create(request.source, options);
        abort.signal.throwIfAborted(); // cancelled while it compiled: nobody wants it
      } catch (e) {
        await session?.release();
        lost?.[releaseProxy]();
        telemetryEvents?.[releaseProxy]();
        throw e;
      } finally {
        loads.delete(request.requestId);
        progress?.[releaseProxy]();
      }
      const id = nextId++;
      sessions.set(id, { session, ...(lost ? { onDeviceLost: lost } : {}), ...(telemetryEvents ? { onTelemetryEvent: telemetryEvents } : {}) });
      if (telemetryEvents) {
        // Drift windows and alerts go to the page, where session.telemetry re-dispatches them.
        for (const type of Object.values(TELEMETRY_EVENTS)) {
          session.telemetry.addEventListener(type, (ev) => void telemetryEvents(type, (ev as CustomEvent<unknown>).detail).catch(() => undefined));
        }
      }
      return infoOf(id, session);
    },

    async run(id, feeds, fetches, options, into = {}) {
      const inputs = feeds;
      // the caller's buffers go back whatever happens: inputs, and pre-allocated outputs (filled or not)
      const back = (reply: RunReply): RunReply => transfer({ ...reply, into }, transferList([...Object.values(inputs), ...Object.values(into)]));
      try {
        const hosted = sessions.get(id);
        if (!hosted) return back({ error: serializeError(new KilnError('RELEASED', 'this session was released')), inputs });
        const tensors: Record<string, AnyTensor> = {};
        for (const [name, w] of Object.entries(feeds)) tensors[name] = new Tensor(w.type, w.data, w.dims);
        const filled = Object.keys(into);
        const asked = filled.length > 0 && Array.isArray(fetches) ? Object.fromEntries(fetches.map((n: string) => [n, into[n] ? new Tensor(into[n].type, into[n].data, into[n].dims) : null])) : fetches;
        const results = await hosted.session.run(tensors, asked as FetchesType, options as RunOptions); // checked by the session (run-arguments.ts)
        const outputs: WireTensors = {};
        for (const [name, t] of Object.entries(results)) if (!filled.includes(name)) outputs[name] = toWire(t);
        const s = hosted.session;
        const state = { executionProvider: s.executionProvider, adapterInfo: s.adapterInfo, placement: s.lastPlacement };
        // Outputs that alias an input (Identity of a graph input) travel inside the input's buffer.
        const owned = [...Object.values(inputs), ...Object.values(into)];
        const ownedBuffers = new Set(owned.map((w) => (Array.isArray(w.data) ? undefined : w.data.buffer)));
        const list = [...transferList(owned), ...transferList(Object.values(outputs), new Set([...ownedBuffers].filter((b) => b !== undefined)))];
        return transfer({ outputs, inputs, into, state }, list);
      } catch (e) {
        return back({ error: serializeError(e), inputs });
      }
    },

    async release(id) {
      const hosted = sessions.get(id);
      sessions.delete(id);
      hosted?.onDeviceLost?.[releaseProxy]();
      hosted?.onTelemetryEvent?.[releaseProxy]();
      await hosted?.session.release();
    },

    async generate(id, generation, options, onToken) {
      // Registered before the first await: an abortGenerate() sent right after this call finds it.
      const abort = new AbortController();
      generations.set(generation, abort);
      const token = onToken as Callback<[number, number]> | undefined;
      try {
        const hosted = sessions.get(id) ?? fail('RELEASED', 'this session was released');
        const { generateHere } = await import('../generate/generate-here.ts');
        return await generateHere(hosted.session, { ...options, signal: abort.signal, ...(token ? { onToken: (t: number, i: number) => token(t, i) } : {}) });
      } finally {
        generations.delete(generation);
        token?.[releaseProxy]();
      }
    },

    abortGenerate(generation, reason) {
      generations.get(generation)?.abort(reason);
    },

    async telemetrySnapshot(id) {
      const hosted = sessions.get(id) ?? fail('RELEASED', 'this session was released');
      return hosted.session.telemetry.snapshot();
    },

    async telemetryFlush(id, keepalive) {
      const hosted = sessions.get(id) ?? fail('RELEASED', 'this session was released');
      return hosted.session.telemetry.flush({ keepalive });
    },

    abort(requestId) {
      loads.get(requestId)?.abort(new DOMException('the load was aborted', 'AbortError'));
    },
  };
  expose(api, endpoint);
}

function infoOf(id: number, s: InferenceSession): SessionInfo {
  return {
    id,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputMetadata: s.inputMetadata,
    outputMetadata: s.outputMetadata,
    executionProvider: s.executionProvider,
    adapterInfo: s.adapterInfo,
    modelMetadata: s.modelMetadata,
    backendChoice: s.backendChoice,
    bundle: s.bundle,
    verification: s.verification,
    telemetryEnabled: s.telemetry.enabled,
  };
}
