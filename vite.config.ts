// Library builds of the runtime (scripts/build.mjs runs both modes; `npx vite build [--mode node]` works too).
//   default mode: dist/kiln.mjs (ESM) and dist/kiln.iife.js (script tag, global `kiln`) for browsers
//   --mode node:  dist/node/index.js, the Node entry, with its npm dependencies left as imports
import { fileURLToPath } from 'node:url';
import { defineConfig, type InlineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Node built-ins and the runtime's npm dependencies stay imports in the Node build (installed with the package). */
const NODE_EXTERNAL = /^(node:|webgpu$|webgpu\/|protobufjs$|protobufjs\/|long$|long\/)/;

export function browserConfig(): InlineConfig {
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      lib: {
        entry: 'runtime/index.ts',
        name: 'kiln',
        formats: ['es', 'iife'],
        fileName: (format) => (format === 'es' ? 'kiln.mjs' : 'kiln.iife.js'),
      },
      rolldownOptions: {
        // The browser build must not depend on Node: fail instead of shimming a Node module away.
        external: (id) => {
          if (id.startsWith('node:') || id === 'webgpu') throw new Error(`browser build imports '${id}': only runtime/node.ts may`);
          return false;
        },
      },
    },
  };
}

export function nodeConfig(): InlineConfig {
  return {
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir: 'dist/node',
      emptyOutDir: false,
      target: 'node20',
      sourcemap: true,
      minify: false,
      lib: {
        entry: 'runtime/node.ts',
        formats: ['es'],
        fileName: () => 'index.js',
      },
      rolldownOptions: { external: (id) => NODE_EXTERNAL.test(id) },
    },
  };
}

export default defineConfig(({ mode }) => (mode === 'node' ? nodeConfig() : browserConfig()));
