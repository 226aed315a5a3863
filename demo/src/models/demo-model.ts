// One model of the page: its stored bytes (model-store.ts) turned into a Kiln session on the chosen
// backend, with the bundle's input/output contract when the model is a .kiln bundle.
import { InferenceSession, type SessionOptions } from '../../../runtime/worker/browser-entry.ts';
import type { BundleSpec } from '../../../runtime/format/kiln/bundle-spec.ts';
import type { TelemetryOptions } from '../../../runtime/telemetry/telemetry-api.ts';
import type { ModelEntry } from '../offline/manifest.ts';
import type { LoadedModel, ModelStore } from '../offline/model-store.ts';

export type BackendPreference = 'webgpu' | 'cpu';

export interface DemoModel {
  readonly session: InferenceSession;
  readonly loaded: LoadedModel;
  readonly spec: BundleSpec;
}

/** The bundle's input/output contract (a plain ONNX model has none: the page's defaults apply). */
export function bundleSpecOf(session: InferenceSession): BundleSpec {
  return session.bundle ?? {};
}

export async function openDemoModel(store: ModelStore, entry: ModelEntry, backend: BackendPreference, telemetry: TelemetryOptions | undefined, onProgress?: (loaded: number, total: number) => void): Promise<DemoModel> {
  const loaded = await store.load(entry, onProgress ? { onProgress } : {});
  const options: SessionOptions = {
    executionProviders: backend === 'webgpu' ? ['webgpu', 'cpu'] : ['cpu'],
    ...(telemetry ? { telemetry: { ...telemetry, modelName: loaded.entry.name, modelVersion: loaded.entry.version } } : {}),
  };
  // A copy: the worker takes ownership of the buffer it is given.
  const session = await InferenceSession.create(new Uint8Array(loaded.bytes), options);
  return { session, loaded, spec: bundleSpecOf(session) };
}
