// Builds the demo PWA (demo/vite.config.ts) when its output is missing or older than its sources
// (the demo, the runtime it bundles, the models). One build at a time across processes.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { newestMtime, withBuildLock } from '../../scripts/browser/ensure-build.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { demoConfig, demoRoot, type DemoBuildOptions } from '../vite.config.ts';

const INPUTS = ['demo/index.html', 'demo/src', 'demo/public', 'demo/models', 'demo/vite.config.ts', 'core', 'runtime', 'kernels'];

/** Why `outDir` needs a build, or undefined when it is up to date. */
export function demoStaleReason(outDir: string, modelsDir: string): string | undefined {
  const sw = join(outDir, 'sw.js');
  if (!existsSync(sw)) return `${sw} is missing`;
  const built = statSync(sw).mtimeMs;
  const inputs = [...INPUTS.map((i) => join(repoRoot, i)), modelsDir];
  const newer = inputs.find((i) => newestMtime(i) > built);
  return newer ? `${newer} changed after the last build` : undefined;
}

/** Builds the demo if needed; returns what it did. */
export function ensureDemoBuild(options: DemoBuildOptions = {}): Promise<string> {
  const outDir = options.outDir ?? join(demoRoot, 'dist');
  const modelsDir = options.modelsDir ?? join(demoRoot, 'models');
  return withBuildLock(`kiln-demo-build-${Buffer.from(outDir).toString('base64url').slice(-40)}`, async () => {
    const reason = demoStaleReason(outDir, modelsDir);
    if (reason === undefined) return 'demo build is up to date';
    const started = Date.now();
    await build(demoConfig({ outDir, modelsDir }));
    return `built the demo in ${((Date.now() - started) / 1000).toFixed(1)} s (${reason})`;
  });
}
