// The versioned list of model bundles the demo uses (demo/models/manifest.json). A model's bytes are
// only ever used when their SHA-256 equals the one listed here; a new `version` of a name is
// downloaded in the background and swapped in on the next load (see model-store.ts).
import { fail } from '../../../core/errors.ts';

/** What the page does with a model. */
export type ModelRole = 'digits' | 'tabular' | 'text';

export interface ModelEntry {
  /** stable name across versions, e.g. 'mnist-cnn-int8' */
  readonly name: string;
  /** changes whenever the bytes change */
  readonly version: string;
  /** relative to the manifest */
  readonly url: string;
  /** lowercase hex SHA-256 of the file */
  readonly sha256: string;
  readonly bytes: number;
  readonly role: ModelRole;
  /** shown in the page, e.g. 'int8' */
  readonly label: string;
}

export interface ModelManifest {
  readonly manifestVersion: 1;
  readonly models: readonly ModelEntry[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) fail('INVALID_ARGUMENT', `model manifest: ${what} must be a non-empty string`);
  return v;
}

/** Checks a parsed manifest.json; bad manifests are refused whole, naming the first problem. */
export function parseManifest(json: unknown): ModelManifest {
  if (typeof json !== 'object' || json === null) fail('INVALID_ARGUMENT', 'model manifest: not a JSON object');
  const { manifestVersion, models } = json as { manifestVersion?: unknown; models?: unknown };
  if (manifestVersion !== 1) fail('INVALID_ARGUMENT', `model manifest: manifestVersion ${String(manifestVersion)} is not supported (expected 1)`);
  if (!Array.isArray(models)) fail('INVALID_ARGUMENT', 'model manifest: models must be an array');
  const seen = new Set<string>();
  const entries = models.map((m: unknown, i): ModelEntry => {
    if (typeof m !== 'object' || m === null) fail('INVALID_ARGUMENT', `model manifest: models[${i}] is not an object`);
    const r = m as Record<string, unknown>;
    const name = str(r.name, `models[${i}].name`);
    if (seen.has(name)) fail('INVALID_ARGUMENT', `model manifest: '${name}' is listed twice`);
    seen.add(name);
    const sha256 = str(r.sha256, `${name}.sha256`).toLowerCase();
    if (!HEX64.test(sha256)) fail('INVALID_ARGUMENT', `model manifest: ${name}.sha256 is not 64 hex digits`);
    const bytes = r.bytes;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes <= 0) fail('INVALID_ARGUMENT', `model manifest: ${name}.bytes must be a positive integer`);
    const role = r.role;
    if (role !== 'digits' && role !== 'tabular' && role !== 'text') fail('INVALID_ARGUMENT', `model manifest: ${name}.role must be 'digits', 'tabular' or 'text'`);
    return { name, version: str(r.version, `${name}.version`), url: str(r.url, `${name}.url`), sha256, bytes, role, label: typeof r.label === 'string' ? r.label : name };
  });
  return { manifestVersion: 1, models: entries };
}

const SAVED_MANIFEST = 'kiln-demo-manifest';

/**
 * The manifest from the network (never from the HTTP cache: a new version must be seen), else the
 * last one that was fetched, so the page works offline.
 */
export async function loadManifest(url: string): Promise<{ manifest: ModelManifest; offline: boolean }> {
  try {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const manifest = parseManifest(await response.json());
    localStorage.setItem(SAVED_MANIFEST, JSON.stringify(manifest));
    return { manifest, offline: false };
  } catch (e) {
    const saved = localStorage.getItem(SAVED_MANIFEST);
    if (saved !== null) return { manifest: parseManifest(JSON.parse(saved)), offline: true };
    if (e instanceof Error && e.name === 'KilnError') throw e;
    return fail('INVALID_ARGUMENT', `the model manifest ${url} could not be loaded (${e instanceof Error ? e.message : String(e)}) and no copy is stored yet: connect once to install the demo`);
  }
}
