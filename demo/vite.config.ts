// Production build of the demo PWA (demo/dist), separate from the library build in ../vite.config.ts.
// `npm start` serves this build, not the dev server: a service worker needs the built, hashed files
// to precache (see docs/demo.md). Model bundles are copied to dist/models/ but NOT precached: the
// page keeps them itself, versioned and hash-checked (src/offline/model-store.ts), so a new model
// does not need a new app build and a half-downloaded one is never used.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig, Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { readManifest } from './scripts/manifest-file.ts';

export const demoRoot = fileURLToPath(new URL('.', import.meta.url));

export interface DemoBuildOptions {
  /** where the built app goes (default demo/dist) */
  outDir?: string;
  /** folder holding manifest.json and the bundles it lists (default demo/models) */
  modelsDir?: string;
}

/** Emits models/manifest.json and every bundle it lists as build assets (never hashed: the manifest names them). */
function modelBundles(modelsDir: string): Plugin {
  return {
    name: 'kiln-demo-models',
    apply: 'build',
    generateBundle() {
      const manifest = readManifest(modelsDir);
      this.emitFile({ type: 'asset', fileName: 'models/manifest.json', source: `${JSON.stringify(manifest, null, 2)}\n` });
      for (const m of manifest.models) this.emitFile({ type: 'asset', fileName: `models/${m.url}`, source: readFileSync(join(modelsDir, m.url)) });
    },
  };
}

/**
 * The wasm backend's modules (scripts/build-wasm.mjs -> dist/wasm/), emitted where the runtime looks
 * for them: `wasm/` beside the chunk that loads them (assets/). Precached with the app, so the CPU
 * path is WebAssembly offline too. Without them (not built) the session's 'cpu' runs plain TypeScript.
 */
function wasmModules(): Plugin {
  return {
    name: 'kiln-demo-wasm',
    apply: 'build',
    generateBundle() {
      const dir = join(demoRoot, '..', 'dist', 'wasm');
      if (!existsSync(dir)) return this.warn(`${dir} is missing (node scripts/build-wasm.mjs): the demo's CPU path will run plain TypeScript`);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.wasm'))) this.emitFile({ type: 'asset', fileName: `assets/wasm/${f}`, source: readFileSync(join(dir, f)) });
    },
  };
}

export function demoConfig(options: DemoBuildOptions = {}): InlineConfig {
  const modelsDir = options.modelsDir ?? join(demoRoot, 'models');
  return {
    root: demoRoot,
    configFile: false,
    base: './',
    logLevel: 'warn',
    publicDir: join(demoRoot, 'public'),
    worker: { format: 'es' },
    build: {
      outDir: options.outDir ?? join(demoRoot, 'dist'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      // Workbox's precache step is slow on 2 busy cores; Rolldown's timing report about it is noise here.
      rolldownOptions: { checks: { bundlerTimings: false } },
    },
    plugins: [
      modelBundles(modelsDir),
      wasmModules(),
      VitePWA({
        strategies: 'generateSW',
        registerType: 'prompt', // the page asks before switching to a new app version
        injectRegister: false, // src/pwa/register.ts registers with workbox-window
        manifestFilename: 'manifest.webmanifest',
        includeManifestIcons: false, // the glob below already precaches every icon
        manifest: {
          name: 'Kiln — ML in your browser',
          short_name: 'Kiln',
          description: 'Quantized models running on WebGPU or CPU, offline, with live latency and drift telemetry.',
          theme_color: '#241a12',
          background_color: '#faf7f2',
          display: 'standalone',
          start_url: './',
          scope: './',
          icons: [
            { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
            { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
            { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
            { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
          ],
        },
        workbox: {
          globPatterns: ['**/*.{js,mjs,css,html,svg,png,webmanifest,wasm}'],
          globIgnores: ['models/**'],
          navigateFallback: 'index.html',
          navigateFallbackDenylist: [/^\/models\//, /^\/demo-config\.json/],
          cleanupOutdatedCaches: true,
          maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        },
      }),
    ],
  };
}
