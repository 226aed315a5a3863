// executionProviders: ['auto']. Which backend is faster depends on the model and the adapter: on a
// software adapter (SwiftShader) the CPU path usually wins by far, on a real GPU WebGPU does for all
// but tiny models (DESIGN.md section 8). So 'auto' starts both, times a few warm runs on synthetic
// inputs (measure-feeds.ts), keeps the faster and remembers the answer per adapter and model (IndexedDB where present,
// else localStorage, else this process only), so later sessions start only the winner.
import type { BackendName } from '../backends/backend.ts';
import { isSoftwareAdapter } from '../backends/webgpu/gpu-device.ts';
import { getGpu } from '../backends/webgpu/gpu-provider.ts';
import type { DataType } from '../../core/dtype.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { measurementDims, measurementFeeds } from './measure-feeds.ts';

export interface BackendChoice {
  /** 'list': the first of executionProviders that started; 'auto': measured or remembered */
  readonly mode: 'list' | 'auto';
  readonly chosen: BackendName;
  readonly reason: 'first-that-started' | 'measured' | 'remembered' | 'no-webgpu' | 'measurement-failed';
  /** median warm run per backend in ms, when this session measured */
  readonly medianMs?: Readonly<Partial<Record<BackendName, number>>>;
  /** the input dims the medians were measured on (symbolic dims given sizes: measure-feeds.ts) */
  readonly measuredDims?: Readonly<Record<string, readonly number[]>>;
  /** why a backend has no median: it did not start, or the model did not run on it at any dims tried */
  readonly failures?: Readonly<Partial<Record<BackendName, string>>>;
  /** the adapter the choice is remembered for */
  readonly adapter?: string;
}

/** What 'auto' needs of a session (InferenceSession, kept structural to avoid an import cycle). */
export interface MeasurableSession {
  readonly executionProvider: BackendName;
  readonly inputMetadata: readonly { readonly name: string; readonly type: DataType; readonly shape: readonly (number | string)[] }[];
  run(feeds: Readonly<Record<string, AnyTensor>>): Promise<unknown>;
  release(): Promise<void>;
}

const choices = new WeakMap<object, BackendChoice>();

export function choiceOf(session: object): BackendChoice | undefined {
  return choices.get(session);
}

const backendOf = (s: MeasurableSession): BackendName => s.executionProvider;

/** Per backend: at most this many timed runs, and no more once this much time went by. */
const MAX_RUNS = 5;
const BUDGET_MS = 1500;

export async function chooseBackend<S extends MeasurableSession>(modelBytes: Uint8Array, start: (providers: readonly BackendName[]) => Promise<S>): Promise<S> {
  const { key: adapter, software } = (await adapterOf()) ?? {};
  const done = (s: S, choice: BackendChoice): S => (choices.set(s, choice), s);
  const cpu = async (): Promise<S> => start(['wasm', 'js']); // plain TypeScript only where WebAssembly cannot run
  if (!adapter) {
    const session = await cpu();
    return done(session, { mode: 'auto', chosen: backendOf(session), reason: 'no-webgpu' });
  }
  const key = `${adapter}|${await sha256Hex(modelBytes)}`;
  const known = await recall(key);
  if (known === 'webgpu' || known === 'wasm') {
    const session = await start(known === 'webgpu' ? ['webgpu', 'wasm', 'js'] : ['wasm', 'js', 'webgpu']);
    return done(session, { mode: 'auto', chosen: backendOf(session), reason: 'remembered', adapter });
  }
  const failures: Partial<Record<BackendName, string>> = {};
  const started: [BackendName, S][] = [];
  for (const providers of [['webgpu'], ['wasm', 'js']] as const) {
    try {
      const session = await start(providers);
      started.push([backendOf(session), session]);
    } catch (e) {
      // A bad option (numThreads: 0) is the caller's error, as with a listed provider; a backend that cannot start is skipped.
      if (e instanceof KilnError && e.code === 'INVALID_ARGUMENT') {
        for (const [, s] of started) await s.release();
        throw e;
      }
      failures[providers[0]] = `did not start: ${messageOf(e)}`;
    }
  }
  const { medianMs, measuredDims } = await measure(started, failures);
  const timed = started.filter(([name]) => medianMs[name] !== undefined).sort(([a], [b]) => medianMs[a]! - medianMs[b]!);
  // Nothing measured: on a software adapter the CPU wins by far (DESIGN.md section 8), elsewhere WebGPU is the better guess.
  const fallback = software ? (started.find(([name]) => name !== 'webgpu') ?? started[0]) : started[0];
  const [chosen, session] = timed[0] ?? fallback ?? (await cpu().then((s): [BackendName, S] => [backendOf(s), s]));
  for (const [, other] of started) if (other !== session) await other.release();
  const details = { medianMs, ...(measuredDims ? { measuredDims } : {}), ...(Object.keys(failures).length > 0 ? { failures } : {}), adapter };
  if (timed.length === 0) return done(session, { mode: 'auto', chosen, reason: 'measurement-failed', ...details });
  await remember(key, chosen);
  return done(session, { mode: 'auto', chosen, reason: 'measured', ...details });
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Times every started session on the same feeds, at the first of measurementDims that at least one
 * of them runs; a backend that fails there gets its reason in `failures` (every dims tried, when none ran anywhere).
 */
async function measure(started: readonly (readonly [BackendName, MeasurableSession])[], failures: Partial<Record<BackendName, string>>) {
  const medianMs: Partial<Record<BackendName, number>> = {};
  const first = started[0]?.[1];
  if (!first) return { medianMs };
  const tried = new Map<BackendName, string[]>();
  for (const dims of measurementDims(first.inputMetadata)) {
    const feeds = measurementFeeds(first.inputMetadata, dims);
    const shown = Object.entries(dims).map(([name, d]) => `${name} [${d.join(',')}]`).join(', ');
    for (const [name, session] of started) {
      try {
        medianMs[name] = await medianRunMs(session, feeds);
      } catch (e) {
        tried.set(name, [...(tried.get(name) ?? []), `at ${shown}: ${messageOf(e)}`]);
      }
    }
    if (Object.keys(medianMs).length > 0) {
      for (const [name] of started) if (medianMs[name] === undefined) failures[name] = tried.get(name)!.at(-1)!;
      return { medianMs, measuredDims: dims };
    }
  }
  for (const [name, reasons] of tried) failures[name] = `did not run ${reasons.join('; ')}`;
  return { medianMs };
}

/** The WebGPU adapter's identity and whether it is a software one, or undefined when there is none. */
async function adapterOf(): Promise<{ key: string; software: boolean } | undefined> {
  const adapter = await getGpu()?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return undefined;
  const i = adapter.info;
  return { key: [i.vendor, i.architecture, i.device, i.description].join('/'), software: isSoftwareAdapter(adapter) };
}

/** Median of a few warm runs on these feeds. */
async function medianRunMs(session: MeasurableSession, feeds: Readonly<Record<string, AnyTensor>>): Promise<number> {
  await session.run(feeds); // the first run of a shape plans and uploads: not timed
  const times: number[] = [];
  const begin = performance.now();
  while (times.length < MAX_RUNS && (times.length < 2 || performance.now() - begin < BUDGET_MS)) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

// --- a tiny persistent key-value store -------------------------------------------------------

const memory = new Map<string, string>();
const DB_NAME = 'kiln-backend-choice';
const STORE = 'choices';
let db: Promise<IDBDatabase | undefined> | undefined;

function openDb(): Promise<IDBDatabase | undefined> {
  db ??= new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') return resolve(undefined);
    try {
      const r = indexedDB.open(DB_NAME, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = r.onblocked = () => resolve(undefined);
    } catch {
      resolve(undefined); // e.g. opaque origins
    }
  });
  return db;
}

function idbRequest<T>(make: (store: IDBObjectStore) => IDBRequest<T>, mode: IDBTransactionMode): Promise<T | undefined> {
  return openDb().then(
    (d) =>
      new Promise((resolve) => {
        if (!d) return resolve(undefined);
        try {
          const r = make(d.transaction(STORE, mode).objectStore(STORE));
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => resolve(undefined);
        } catch {
          resolve(undefined);
        }
      }),
  );
}

function local(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // access can throw when storage is disabled
  }
}

async function recall(key: string): Promise<string | undefined> {
  const v = memory.get(key) ?? (await idbRequest((s) => s.get(key), 'readonly')) ?? local()?.getItem(`kiln:${key}`) ?? undefined;
  return typeof v === 'string' ? v : undefined;
}

async function remember(key: string, value: string): Promise<void> {
  memory.set(key, value);
  await idbRequest((s) => s.put(value, key), 'readwrite');
  try {
    local()?.setItem(`kiln:${key}`, value);
  } catch {
    // quota or disabled storage: IndexedDB or this process still remember it
  }
}
