// Keeps demo/models/manifest.json in step with the bundle files beside it: each entry's sha256 and
// bytes are recomputed, and its version is bumped when the bytes changed, so pages that stored the
// old bytes download the new ones in the background (demo/src/offline/model-store.ts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type ModelEntry, type ModelManifest } from '../src/offline/manifest.ts';

export interface ManifestRefresh {
  readonly manifest: ModelManifest;
  /** names whose bytes changed (their version was bumped) */
  readonly changed: readonly string[];
  /** names whose file is not there */
  readonly missing: readonly string[];
}

export function readManifest(modelsDir: string): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')));
}

/** Next version after `v`: integers count up; anything else gets a numeric suffix. */
export function nextVersion(v: string): string {
  if (/^\d+$/.test(v)) return String(Number(v) + 1);
  const m = /^(.*)\.(\d+)$/.exec(v);
  return m ? `${m[1]}.${Number(m[2]) + 1}` : `${v}.1`;
}

export function refreshManifest(modelsDir: string, write = true): ManifestRefresh {
  const old = readManifest(modelsDir);
  const changed: string[] = [];
  const missing: string[] = [];
  const models = old.models.map((e): ModelEntry => {
    const file = join(modelsDir, e.url);
    if (!existsSync(file)) {
      missing.push(e.name);
      return e;
    }
    const bytes = readFileSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 === e.sha256 && bytes.length === e.bytes) return e;
    changed.push(e.name);
    return { ...e, sha256, bytes: bytes.length, version: nextVersion(e.version) };
  });
  const manifest: ModelManifest = { manifestVersion: 1, models };
  if (write && changed.length > 0) writeFileSync(join(modelsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, changed, missing };
}
