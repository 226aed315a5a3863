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
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defineConfig, parseAst, type InlineConfig, type Plugin } from 'vite';

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

/**
 * The script tag's lazy parts (runtime/worker/iife-chunks.ts): the module a dynamic `import()` names ->
 * dist/kiln.iife-<name>.js. None of them runs on the WebGPU path; the ESM builds split the same
 * imports into chunks of their own.
 */
export const IIFE_CHUNKS: Readonly<Record<string, string>> = {
  wasm: 'runtime/backends/wasm/start-wasm.ts',
  telemetry: 'runtime/telemetry/session-telemetry.ts',
  'kiln-reader': 'runtime/format/kiln/kiln-reader.ts',
  'onnx-reader': 'runtime/format/onnx/onnx-reader.ts',
  // The QDQ graph passes: loaded for graphs with QuantizeLinear / DequantizeLinear (loadGraphPassesFor).
  'qdq-passes': 'runtime/graph/passes/qdq-lowering.ts',
  // The attention recognizers (graphs with a Softmax) and If / Loop expansion (graphs with them).
  'attention-passes': 'runtime/graph/passes/attention-passes.ts',
  'control-flow': 'runtime/plan/control-flow.ts',
  // generate()'s loop and KV cache (its page side only checks options and forwards to the worker).
  generate: 'runtime/generate/generate-here.ts',
  // Op families outside the core set (kernels/lazy-families.ts), one part per group.
  'ops-quantized': 'kernels/lazy/ops-quantized.ts',
  'ops-transformer': 'kernels/lazy/ops-transformer.ts',
  'ops-sequence': 'kernels/lazy/ops-sequence.ts',
  'ops-vision': 'kernels/lazy/ops-vision.ts',
  'ops-signal': 'kernels/lazy/ops-signal.ts',
  'ops-ml': 'kernels/lazy/ops-ml.ts',
};
const IIFE_LOADER = resolve(root, 'runtime/worker/iife-chunks.ts');
const IIFE_ENTRY = resolve(root, BROWSER_BUILDS.iife.entry);
const posix = (p: string): string => p.replace(/\\/g, '/');
/** The global a module shared between kiln.iife.js and its chunks is reached by: globalThis.__kilnShared.<name>. */
const sharedGlobal = (id: string): string => `__kilnShared.${posix(relative(root, id)).replace(/\W/g, '_')}`;

/** `import('./x.ts')` of a lazy part -> loadIifeChunk('<name>') (the text stays on its line, so source maps hold). */
function iifeLazyImports(): Plugin {
  const chunkOf = new Map(Object.entries(IIFE_CHUNKS).map(([name, file]) => [resolve(root, file), name]));
  return {
    name: 'kiln-iife-lazy-imports',
    transform(code, id) {
      if (id.includes('node_modules') || !/\.ts$/.test(id)) return null;
      let used = false;
      const out = code.replace(/(?<!typeof\s+)\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g, (all, _q: string, spec: string) => {
        const name = chunkOf.get(resolve(dirname(id), spec));
        if (name === undefined) return all;
        used = true;
        return `__kilnLoadIifeChunk(${JSON.stringify(name)})`;
      });
      if (!used) return null;
      return { code: `${out}\nimport { loadIifeChunk as __kilnLoadIifeChunk } from ${JSON.stringify(posix(IIFE_LOADER))};\n`, map: null };
    },
  };
}

/**
 * The script tag holds the runtime (iife-entry.ts imports core-entry.ts and calls setLocalCore), so
 * browser-session.ts's `import('./core-entry.ts')` is never taken there; left in, the bundler keeps
 * it as an inlined dynamic import and wraps the whole runtime (~150 modules) in lazy-init functions
 * to honour it (2.4 KB gzip). There it becomes the namespace the entry imports statically.
 */
function iifeLocalCore(): Plugin {
  return {
    name: 'kiln-iife-local-core',
    enforce: 'pre',
    transform(code, id) {
      if (!posix(id).endsWith('runtime/worker/browser-session.ts')) return null;
      const out = code.replace("await import('./core-entry.ts')", '__kilnLocalCore');
      if (out === code) throw new Error('runtime/worker/browser-session.ts no longer imports its core as vite.config.ts expects');
      return { code: `${out}\nimport * as __kilnLocalCore from './core-entry.ts';\n`, map: null };
    },
  };
}

/**
 * The main script-tag build: before it, builds each lazy part as its own classic script, with every
 * module that kiln.iife.js also holds left out and read from globalThis.__kilnShared instead (one
 * KilnError class, one Tensor class, one copy of each module's state); then kiln.iife.js fills
 * __kilnShared with exactly the modules, and of each the names, that the parts import.
 */
function iifeChunks(): Plugin {
  const shared: SharedImports = new Map();
  return {
    name: 'kiln-iife-chunks',
    async buildStart() {
      const scan = await build({ ...browserConfig('iife', { scan: true }), logLevel: 'silent' });
      const outputs = Array.isArray(scan) ? scan : [scan];
      const inMain = new Set<string>();
      for (const o of outputs) {
        if (!('output' in o)) throw new Error('vite.config.ts: the script-tag scan build returned a watcher');
        for (const c of o.output) if (c.type === 'chunk') for (const m of c.moduleIds) inMain.add(m);
      }
      for (const name of Object.keys(IIFE_CHUNKS)) await build(iifeChunkConfig(name, inMain, shared));
    },
    transform(code, id) {
      if (id !== IIFE_ENTRY) return null;
      const ids = [...shared.keys()].sort();
      // A module a part reads whole (import * as) is passed as its namespace; otherwise only the names
      // the parts import, as getters (live bindings, as a namespace has): a namespace would keep every
      // export of the module (and the code behind it) in kiln.iife.js.
      const imports = ids.map((m, i) => {
        const names = shared.get(m);
        const from = JSON.stringify(posix(m));
        if (names === '*') return `import * as __kilnShared${i} from ${from};`;
        return names && names.size ? `import { ${[...names].sort().map((n, j) => `${n} as __kilnShared${i}_${j}`).join(', ')} } from ${from};` : '';
      }).join('');
      const fill = ids.map((m, i) => {
        const names = shared.get(m);
        const value = names === '*' ? `__kilnShared${i}` : `__kilnGetters({ ${[...(names ?? [])].sort().map((n, j) => `${n}: () => __kilnShared${i}_${j}`).join(', ')} })`;
        return `${JSON.stringify(sharedGlobal(m).slice('__kilnShared.'.length))}: ${value}`;
      }).join(', ');
      const getters = 'const __kilnGetters = (g) => { const o = {}; for (const k in g) Object.defineProperty(o, k, { get: g[k], enumerable: true }); return o; };';
      return { code: `${code}\n${imports}${getters}globalThis["__kilnShared"] = { ${fill} };\n`, map: null };
    },
  };
}

/** Per module of kiln.iife.js that a lazy part imports: the names the parts import from it, or '*' for the whole namespace. */
type SharedImports = Map<string, Set<string> | '*'>;

/** Records in `shared` what `code` (a module of a lazy part, types already stripped) imports from kiln.iife.js's modules. */
function recordSharedImports(code: string, importer: string, isShared: (id: string) => boolean, shared: SharedImports): void {
  const add = (source: string, names: readonly string[] | '*'): void => {
    if (!/^\.{1,2}\//.test(source)) return;
    const id = resolve(dirname(importer), source);
    if (!isShared(id)) return;
    const had = shared.get(id);
    if (names === '*' || had === '*') return void shared.set(id, '*');
    const set = had ?? new Set<string>();
    for (const n of names) {
      if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`vite.config.ts: ${importer} imports '${n}' from ${id}, not a plain name`);
      set.add(n);
    }
    shared.set(id, set);
  };
  const nameOf = (n: { type: string; name?: string; value?: unknown }): string => (n.type === 'Identifier' ? n.name ?? '' : String(n.value));
  for (const node of parseAst(code).body) {
    if (node.type === 'ImportDeclaration') {
      add(node.source.value, node.specifiers.some((sp) => sp.type === 'ImportNamespaceSpecifier') ? '*' : node.specifiers.map((sp) => (sp.type === 'ImportSpecifier' ? nameOf(sp.imported) : 'default')));
    } else if (node.type === 'ExportNamedDeclaration' && node.source) {
      add(node.source.value, node.specifiers.map((sp) => nameOf(sp.local)));
    } else if (node.type === 'ExportAllDeclaration') {
      add(node.source.value, '*');
    }
  }
  // A dynamic import of such a module gets its namespace.
  for (const m of code.matchAll(/\bimport\(\s*(['"])([^'"]+)\1\s*\)/g)) add(m[2]!, '*');
}

/** One lazy part of the script tag: dist/kiln.iife-<name>.js, registering its exports as globalThis.__kilnChunks[name]. */
function iifeChunkConfig(name: string, inMain: ReadonlySet<string>, shared: SharedImports): InlineConfig {
  const entry = resolve(root, IIFE_CHUNKS[name]!);
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    plugins: [
      iifeLazyImports(),
      {
        name: 'kiln-iife-chunk-shared',
        enforce: 'pre',
        resolveId(source, importer) {
          if (!importer || !/^\.{1,2}\//.test(source)) return null;
          const id = resolve(dirname(importer), source);
          if (id === entry || !inMain.has(id)) return null;
          if (!shared.has(id)) shared.set(id, new Set());
          return { id, external: true };
        },
      },
      {
        name: 'kiln-iife-chunk-shared-names',
        enforce: 'post',
        transform(code, id) {
          if (!id.includes('node_modules')) recordSharedImports(code, id, (m) => m !== entry && inMain.has(m), shared);
          return null;
        },
      },
    ],
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      lib: { entry, name: `__kilnChunks.${name}`, formats: ['iife'], fileName: () => `kiln.iife-${name}.js` },
      rolldownOptions: {
        external: (id) => {
          if (id.startsWith('node:') || id === 'webgpu') throw new Error(`browser build imports '${id}': only runtime/node.ts may`);
          return false;
        },
        output: { minify: true, extend: true, globals: (id: string) => sharedGlobal(id), inlineDynamicImports: true },
      },
    },
  };
}

export function browserConfig(which: BrowserBuild = 'esm', options: { scan?: boolean } = {}): InlineConfig {
  const b = BROWSER_BUILDS[which];
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    plugins: which === 'esm' ? [esmEntry()] : which === 'iife' ? (options.scan ? [iifeLazyImports(), iifeLocalCore()] : [iifeLazyImports(), iifeLocalCore(), iifeChunks()]) : [],
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      ...(options.scan ? { write: false } : {}),
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
        // Every module the entry imports statically ('$initial') stays in the entry file: left to itself
        // the bundler splits modules the lazy parts share with it into a dozen small chunks, each
        // gzipped alone (~5 KB more on the ESM WebGPU path; test/delivery/bundle-size.test.ts checks it).
        output: { minify: true, ...(which === 'core' || which === 'worker' ? { chunkFileNames: `kiln.${which}-[name].mjs`, codeSplitting: { groups: [{ name: 'runtime', tags: ['$initial'] }] } } : { inlineDynamicImports: true }) },
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
