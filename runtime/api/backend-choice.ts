// executionProviders: ['auto']. Which backend is faster depends on the model and the adapter: on a
// software adapter (SwiftShader) the CPU path usually wins by far, on a real GPU WebGPU does for all
// but tiny models (DESIGN.md section 8). So 'auto' starts both, times a few warm runs on synthetic
// inputs, keeps the faster and remembers the answer per adapter and model (IndexedDB where present,
// else localStorage, else this process only), so later sessions start only the winner.
import type { BackendName } from '../backends/backend.ts';
import { getGpu } from '../backends/webgpu/gpu-provider.ts';
import { allocData, type DataType } from '../../core/dtype.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';

export interface BackendChoice {
  /** 'list': the first of executionProviders that started; 'auto': measured or remembered */
  readonly mode: 'list' | 'auto';
  readonly chosen: BackendName;
  readonly reason: 'first-that-started' | 'measured' | 'remembered' | 'no-webgpu' | 'measurement-failed';
  /** median warm run per backend in ms, when this session measured */
  readonly medianMs?: Readonly<Partial<Record<BackendName, number>>>;
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
  const adapter = await adapterKey();
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
  const medianMs: Partial<Record<BackendName, number>> = {};
  const started: [BackendName, S][] = [];
  for (const providers of [['webgpu'], ['wasm', 'js']] as const) {
    let session: S | undefined;
    try {
      session = await start(providers);
    } catch (e) {
      // A bad option (numThreads: 0) is the caller's error, as with a listed provider; a backend that cannot start is skipped.
      if (e instanceof KilnError && e.code === 'INVALID_ARGUMENT') {
        for (const [, s] of started) await s.release();
        throw e;
      }
      continue;
    }
    const name = backendOf(session);
    started.push([name, session]);
    medianMs[name] = await medianRunMs(session).catch(() => undefined);
  }
  const timed = started.filter(([name]) => medianMs[name] !== undefined).sort(([a], [b]) => medianMs[a]! - medianMs[b]!);
  const [chosen, session] = timed[0] ?? started[0] ?? (await cpu().then((s): [BackendName, S] => [backendOf(s), s]));
  for (const [, other] of started) if (other !== session) await other.release();
  if (timed.length === 0) return done(session, { mode: 'auto', chosen, reason: 'measurement-failed', medianMs, adapter });
  await remember(key, chosen);
  return done(session, { mode: 'auto', chosen, reason: 'measured', medianMs, adapter });
}

/** The WebGPU adapter's identity, or undefined when there is none. */
async function adapterKey(): Promise<string | undefined> {
  const adapter = await getGpu()?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return undefined;
  const i = adapter.info;
  return [i.vendor, i.architecture, i.device, i.description].join('/');
}

/** Median of a few warm runs on synthetic inputs (free dims set to 1). */
async function medianRunMs(session: MeasurableSession): Promise<number> {
  const feeds: Record<string, AnyTensor> = {};
  for (const input of session.inputMetadata) {
    const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const data = allocData(input.type, dims.reduce((a, b) => a * b, 1));
    if (data instanceof Float32Array || data instanceof Float64Array) for (let i = 0; i < data.length; i++) data[i] = Math.random();
    feeds[input.name] = new Tensor(input.type, data, dims);
  }
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
