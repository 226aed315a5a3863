// Library builds of the runtime. `npm run build` (scripts/build.mjs) runs every mode below:
//   (default) dist/kiln.mjs        ESM for bundlers and <script type=module>: the API; sessions run in
//                                   dist/kiln.worker.mjs, or load dist/kiln.core.mjs for { worker: false }
//   --mode core    dist/kiln.core.mjs    the runtime for sessions in the calling thread (ESM)
//   --mode worker  dist/kiln.worker.mjs  the module worker hosting sessions (self-contained)
//   --mode iife    dist/kiln.iife.js     script tag, global `kiln`; also its own worker script
//   --mode thread  dist/kiln.thread-worker.mjs  the wasm backend's pool worker (module Worker), found beside the bundle
//   --mode node    dist/node/index.js    the Node entry, with its npm dependencies left as imports;
//                  dist/node/thread-worker.js   the wasm backend's pool worker (worker_threads) beside it
//   --mode cli     dist/cli/kiln.js      the `kiln` command (package.json "bin"), one chunk per subcommand
import { fileURLToPath } from 'node:url';
import { defineConfig, type InlineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Node built-ins and the runtime's npm dependencies stay imports in the Node build (installed with the
 * package). esbuild too: runtime/backends/wasm/thread-spawner-node.ts imports it only when running from
 * the TypeScript sources (tests), a branch the built package never takes.
 */
const NODE_EXTERNAL = /^(node:|webgpu$|webgpu\/|protobufjs$|protobufjs\/|long$|long\/|esbuild$)/;

export type BrowserBuild = 'esm' | 'core' | 'worker' | 'iife' | 'thread';

const BROWSER_BUILDS: Record<BrowserBuild, { entry: string; fileName: string; format: 'es' | 'iife' }> = {
  esm: { entry: 'runtime/worker/browser-entry.ts', fileName: 'kiln.mjs', format: 'es' },
  core: { entry: 'runtime/worker/core-entry.ts', fileName: 'kiln.core.mjs', format: 'es' },
  worker: { entry: 'runtime/worker/worker-entry.ts', fileName: 'kiln.worker.mjs', format: 'es' },
  iife: { entry: 'runtime/worker/iife-entry.ts', fileName: 'kiln.iife.js', format: 'iife' },
  thread: { entry: 'runtime/backends/wasm/thread-worker-browser.ts', fileName: 'kiln.thread-worker.mjs', format: 'es' },
};

/**
 * kiln.mjs: the in-thread runtime stays a separate file (`import('./kiln.core.mjs')`), and the worker
 * URL becomes the literal `new Worker(new URL('./kiln.worker.mjs', import.meta.url), ...)` that app
 * bundlers look for. Before Vite's own worker plugin sees the source, its './worker-entry.ts' is
 * turned into `'./kiln.worker.mjs' + ''`, which that plugin leaves alone (so this build does not
 * inline the worker); the `+ ''` is dropped from the output.
 */
function esmEntry(): Plugin {
  return {
    name: 'kiln-esm-entry',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './core-entry.ts' && importer?.replace(/\\/g, '/').endsWith('runtime/worker/browser-session.ts')) return { id: './kiln.core.mjs', external: true };
      return null;
    },
    transform(code, id) {
      if (!id.replace(/\\/g, '/').endsWith('runtime/worker/browser-entry.ts')) return null;
      const out = code.replace("new URL('./worker-entry.ts', import.meta.url)", "new URL('./kiln.worker.mjs' + '', import.meta.url)");
      if (out === code) throw new Error('runtime/worker/browser-entry.ts no longer names its worker as vite.config.ts expects');
      return { code: out, map: null };
    },
    renderChunk(code) {
      const out = code.replace(/(["'`])\.\/kiln\.worker\.mjs\1\s*\+\s*(["'`])\2/g, '"./kiln.worker.mjs"');
      return out === code ? null : { code: out, map: null };
    },
  };
}

export function browserConfig(which: BrowserBuild = 'esm'): InlineConfig {
  const b = BROWSER_BUILDS[which];
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    plugins: which === 'esm' ? [esmEntry()] : [],
    // protobufjs/minimal requires `long` only for int64 readers the ONNX decoder does not use (3 KB gzip).
    resolve: { alias: { long: fileURLToPath(new URL('./runtime/format/onnx/no-long.ts', import.meta.url)) } },
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      lib: {
        entry: b.entry,
        name: 'kiln',
        formats: [b.format],
        fileName: () => b.fileName,
      },
      rolldownOptions: {
        // The browser build must not depend on Node: fail instead of shimming a Node module away.
        external: (id) => {
          if (id.startsWith('node:') || id === 'webgpu') throw new Error(`browser build imports '${id}': only runtime/node.ts may`);
          return false;
        },
        // Vite leaves ES library output unminified (for consumers' bundlers); these files are also
        // loaded as they are by pages and workers, so they are minified like the IIFE.
        // Telemetry is loaded only when a session asks for it: in the ESM core and worker builds it is
        // one extra file (kiln.<build>-session-telemetry.mjs) importing what it shares from its entry, which
        // may therefore export more than its API; the IIFE (one file by design) and kiln.mjs inline it.
        output: { minify: true, ...(which === 'core' || which === 'worker' ? { chunkFileNames: `kiln.${which}-[name].mjs` } : { inlineDynamicImports: true }) },
        preserveEntrySignatures: 'allow-extension',
      },
    },
  };
}

/** A Node build of one entry (or several, each named `<name>.js`): unminified ES modules with source maps, the given imports left external. */
function nodeLibConfig(entry: string | Record<string, string>, outDir: string, fileName: string, external: (id: string) => boolean, chunkFileNames?: string): InlineConfig {
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: false,
      target: 'node20',
      sourcemap: true,
      minify: false,
      lib: { entry, formats: ['es'], fileName: (_format, name) => (typeof entry === 'string' ? fileName : `${name}.js`) },
      rolldownOptions: { external, ...(chunkFileNames ? { output: { chunkFileNames } } : {}) },
    },
  };
}

export function nodeConfig(): InlineConfig {
  // The pool worker is a second entry: thread-spawner-node.ts starts `./thread-worker.js` beside index.js.
  return nodeLibConfig({ index: 'runtime/node.ts', 'thread-worker': 'runtime/backends/wasm/thread-worker-node.ts' }, 'dist/node', 'index.js', (id) => NODE_EXTERNAL.test(id), 'chunk-[name]-[hash].js');
}

/** The `kiln` CLI: every bare import (npm packages, node: built-ins) stays an import. */
export function cliConfig(): InlineConfig {
  const bare = (id: string): boolean => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id);
  return nodeLibConfig('trainer-node/cli/kiln.ts', 'dist/cli', 'kiln.js', bare, '[name]-[hash].js');
}

export default defineConfig(({ mode }) => {
  if (mode === 'node') return nodeConfig();
  if (mode === 'cli') return cliConfig();
  return browserConfig(mode === 'core' || mode === 'worker' || mode === 'iife' || mode === 'thread' ? mode : 'esm');
});
