// The demo page: wires the offline pieces (service worker, model store), the two model cards and the
// telemetry panel. State the tests read is on `window.kilnDemo` and `body[data-state]`.
import type { DriftAlert, DriftWindowResult, TelemetryOptions, TelemetrySnapshot } from '../../runtime/telemetry/telemetry-api.ts';
import { loadDemoConfig } from './app-config.ts';
import { DigitPanel } from './digits/digit-panel.ts';
import { openDemoModel, type BackendPreference, type DemoModel } from './models/demo-model.ts';
import { loadManifest, type ModelEntry } from './offline/manifest.ts';
import { ModelStore } from './offline/model-store.ts';
import { formatBytes, StorageQuotaError } from './offline/storage-errors.ts';
import { requestPersistentStorage } from './pwa/persist.ts';
import { registerPwa } from './pwa/register.ts';
import { TabularPanel } from './tabular/tabular-panel.ts';
import { SonnetPanel } from './text/sonnet-panel.ts';
import { TelemetryPanel, telemetryOf } from './telemetry/telemetry-panel.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function show(id: string, text: string): void {
  const el = $(id);
  el.textContent = text;
  el.hidden = false;
}

function showError(e: unknown): void {
  const message = e instanceof StorageQuotaError ? e.message : e instanceof Error ? e.message.replace(/^\[[A-Z_]+\] /, '') : String(e);
  show('banner-error', message);
}

// --- offline shell -------------------------------------------------------------------------------
registerPwa(
  () => {
    $('chip-offline').textContent = 'Works offline';
    $('chip-offline').className = 'chip ok';
    document.body.dataset.offlineReady = 'true';
  },
  (accept) => {
    $('banner-app').hidden = false;
    $('banner-app-reload').onclick = accept;
  },
);
const networkChip = (): void => {
  $('chip-network').textContent = navigator.onLine ? 'Online' : 'Offline';
  $('chip-network').className = navigator.onLine ? 'chip' : 'chip off';
};
window.addEventListener('online', networkChip);
window.addEventListener('offline', networkChip);
networkChip();
void requestPersistentStorage().then((state) => {
  if (state === 'unsupported') return;
  $('chip-storage').hidden = false;
  $('chip-storage').textContent = state === 'persisted' ? 'Storage kept' : 'Storage may be evicted';
  document.body.dataset.storage = state;
});

// --- models --------------------------------------------------------------------------------------
const manifestUrl = new URL('./models/manifest.json', location.href).href;
const store = new ModelStore(manifestUrl);
const digits = new DigitPanel({ canvas: $<HTMLCanvasElement>('pad'), clear: $('pad-clear'), guess: $('digit-guess'), confidence: $('digit-confidence'), bars: $('digit-bars') }, showError);
const tabular = new TabularPanel({ sliders: $('sliders'), guess: $('tab-guess'), bars: $('tab-bars'), traffic: $<HTMLInputElement>('traffic-on'), shift: $<HTMLInputElement>('shift'), shiftValue: $('shift-value') });
const sonnet = new SonnetPanel({
  prompt: $<HTMLTextAreaElement>('sonnet-prompt'), generate: $<HTMLButtonElement>('sonnet-generate'), stop: $<HTMLButtonElement>('sonnet-stop'),
  temperature: $<HTMLInputElement>('sonnet-temperature'), temperatureValue: $('sonnet-temperature-value'), topK: $<HTMLInputElement>('sonnet-topk'),
  output: $('sonnet-output'), stats: $('sonnet-stats'),
}, showError);
const models = new Map<string, DemoModel>();
/** background model downloads started by this page (settled, never rejected) */
const updates: Promise<unknown>[] = [];
let backend: BackendPreference = new URLSearchParams(location.search).get('backend') === 'cpu' ? 'cpu' : 'webgpu';

const config = await loadDemoConfig();
const panel = new TelemetryPanel({ latency: $('latency-rows'), gauges: $('drift-gauges'), driftNote: $('drift-note'), delivery: $('telemetry-delivery') }, config.telemetryEndpoint !== undefined);
if (config.dashboardUrl) {
  const link = $<HTMLAnchorElement>('dashboard-link');
  link.href = config.dashboardUrl;
  link.hidden = false;
}
const telemetry: TelemetryOptions = {
  ...(config.telemetryEndpoint ? { endpoint: config.telemetryEndpoint } : {}),
  ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  sampleRate: 1,
  serviceName: 'kiln-demo',
  // Small windows and frequent exports so a visitor sees drift within seconds, not minutes; and every
  // run observed: by default (maxOverhead 0.25% of run time) a model as fast as iris has only a few
  // percent of its runs sketched, so a window of 100 would take thousands of runs to fill.
  drift: { windowSize: 100, maxOverhead: 1 },
  exportIntervalMs: 5000,
};

function describe(model: DemoModel): string {
  const e = model.loaded.entry;
  const where = model.loaded.notStored ? 'not stored offline' : model.loaded.from === 'cache' ? 'from offline storage' : 'downloaded';
  return `${e.name} · v${e.version} · ${formatBytes(e.bytes)} · ${where}`;
}

function showBackend(id: string, model: DemoModel): void {
  const provider = model.session.executionProvider;
  const el = $(id);
  el.textContent = provider === 'webgpu' ? 'WebGPU' : 'CPU';
  el.className = `backend ${provider === 'webgpu' ? 'webgpu' : 'cpu'}`;
  // adapterInfo names the CPU backend too: wasm (SIMD128 or relaxed-SIMD, threads) or js and why
  el.title = provider !== 'webgpu' && backend === 'webgpu' ? `WebGPU is not available here: ${model.session.adapterInfo}` : model.session.adapterInfo;
}

type Slot = 'digits' | 'tabular' | 'text';
const slotIds: Record<Slot, { line: string; backend: string; title: string }> = {
  digits: { line: 'digit-model', backend: 'digit-backend', title: 'MNIST' },
  tabular: { line: 'tab-model', backend: 'tab-backend', title: 'Iris' },
  text: { line: 'sonnet-model', backend: 'sonnet-backend', title: 'Sonnets' },
};

/** Opens `entry` for a card; the card switches to it before the previous session is released. */
async function open(slot: Slot, entry: ModelEntry, use: (model: DemoModel) => void): Promise<DemoModel> {
  const line = slotIds[slot].line;
  $(line).textContent = `Loading ${entry.name}…`;
  // The text model reports no telemetry: one generation is hundreds of tiny runs, which would drown
  // the latency table the two classifiers share, and it has no drift reference.
  const model = await openDemoModel(store, entry, backend, slot === 'text' ? undefined : telemetry, (loaded, total) => {
    $(line).textContent = `Downloading ${entry.name}… ${total > 0 ? `${Math.round((loaded / total) * 100)}%` : formatBytes(loaded)}`;
  });
  const previous = models.get(slot);
  models.set(slot, model);
  use(model);
  await previous?.session.release();
  $(line).textContent = describe(model);
  showBackend(slotIds[slot].backend, model);
  if (slot !== 'text') panel.track(slot, `${slotIds[slot].title} ${model.loaded.entry.label}`, model.session);
  if (model.loaded.notStored) showError(model.loaded.notStored);
  if (model.loaded.update) updates.push(model.loaded.update.catch(() => undefined));
  model.loaded.update?.then(
    (next) => show('banner-model', `${next.name} v${next.version} is downloaded and verified; it will be used the next time you open the app.`),
    (e: unknown) => console.warn(`Kiln demo: background update of ${entry.name} failed`, e),
  );
  const tel = telemetryOf(model.session);
  tel?.addEventListener('driftalert', (e) => {
    const alert = (e as CustomEvent<DriftAlert>).detail;
    document.body.dataset.driftAlert = 'true';
    show('drift-alert', `Drift detected (${slot === 'tabular' ? 'Iris' : 'digits'}): ${alert.features.slice(0, 3).join(', ').replace(/_/g, ' ')}`);
  });
  tel?.addEventListener('driftwindow', (e) => {
    if (!(e as CustomEvent<DriftWindowResult>).detail.alert) $('drift-alert').hidden = true;
  });
  return model;
}

let manifestEntries: readonly ModelEntry[] = [];
let digitVariant = 'int8';

async function openDigits(): Promise<void> {
  const entry = manifestEntries.find((m) => m.role === 'digits' && m.label === digitVariant) ?? manifestEntries.find((m) => m.role === 'digits');
  if (entry) await open('digits', entry, (m) => digits.use(m));
}

async function openTabular(): Promise<void> {
  const entry = manifestEntries.find((m) => m.role === 'tabular');
  if (entry) await open('tabular', entry, (m) => tabular.use(m));
}

async function openText(): Promise<void> {
  const entry = manifestEntries.find((m) => m.role === 'text');
  if (entry) await open('text', entry, (m) => sonnet.use(m));
  else $('sonnet-model').textContent = 'No text model in this build';
}

for (const button of document.querySelectorAll<HTMLButtonElement>('#digits .segmented button')) {
  button.addEventListener('click', () => {
    if (digitVariant === button.dataset.variant) return;
    digitVariant = button.dataset.variant ?? 'int8';
    for (const b of document.querySelectorAll<HTMLButtonElement>('#digits .segmented button')) b.setAttribute('aria-pressed', String(b === button));
    openDigits().catch(showError);
  });
}

function pressBackend(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#backend-switch button')) b.setAttribute('aria-pressed', String(b.dataset.backend === backend));
}

async function switchBackend(next: BackendPreference): Promise<void> {
  if (next === backend && models.size > 0) return;
  backend = next;
  pressBackend();
  await Promise.all([openDigits(), openTabular(), openText()]);
}

for (const button of document.querySelectorAll<HTMLButtonElement>('#backend-switch button')) {
  button.addEventListener('click', () => switchBackend(button.dataset.backend === 'cpu' ? 'cpu' : 'webgpu').catch(showError));
}
pressBackend();

async function start(): Promise<void> {
  const { manifest } = await loadManifest(manifestUrl);
  manifestEntries = manifest.models;
  const variants = new Set(manifest.models.filter((m) => m.role === 'digits').map((m) => m.label));
  for (const b of document.querySelectorAll<HTMLButtonElement>('#digits .segmented button')) b.disabled = !variants.has(b.dataset.variant ?? '');
  await Promise.all([openDigits(), openTabular(), openText()]);
  document.body.dataset.state = 'ready';
}

/** What the browser tests drive (no UI of its own). */
const api = {
  digits,
  tabular,
  sonnet,
  store,
  models,
  ready: start().catch((e: unknown) => {
    document.body.dataset.state = 'error';
    showError(e);
    throw e;
  }),
  setBackend: switchBackend,
  /** resolves when every background model download this page started has finished or failed */
  async updatesSettled(): Promise<void> {
    await Promise.all(updates);
  },
  async flushTelemetry(): Promise<void> {
    await Promise.all([...models.values()].map((m) => telemetryOf(m.session)?.flush()));
  },
  /** every open session's telemetry snapshot, by slot */
  async telemetrySnapshots(): Promise<Record<string, TelemetrySnapshot | undefined>> {
    const entries = await Promise.all([...models].map(async ([slot, m]) => [slot, await telemetryOf(m.session)?.snapshot()] as const));
    return Object.fromEntries(entries);
  },
};
Object.assign(window, { kilnDemo: api });
