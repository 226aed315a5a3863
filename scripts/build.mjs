#!/usr/bin/env node
// `npm run build`: the published files under dist/ (see package.json "exports").
//   dist/kiln.mjs (+ kiln.worker.mjs, kiln.core.mjs)   ESM browser build (vite.config.ts modes)
//   dist/kiln.iife.js                                  script tag, and its own worker script
//   dist/kiln.thread-worker.mjs                        the wasm backend's pool worker, started from beside the bundle
//   dist/node/index.js                                 Node entry (vite.config.ts, mode "node")
//   dist/cli/kiln.js                                   the `kiln` command (mode "cli")
//   dist/types/**                                      declarations (tsc -p tsconfig.build.json)
//   dist/wasm/kiln-{simd,relaxed}.wasm                 the wasm backend's kernels (scripts/build-wasm.mjs),
//                                                      fetched beside the bundle only when that backend starts
// Then prints the gzipped sizes of what a page downloads for each way of loading Kiln.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { buildWasm } from './build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'vite.config.ts');
const started = Date.now();

// Only our outputs: other parts (e.g. the CLI) may build into dist/ too.
const BROWSER_FILES = ['kiln.mjs', 'kiln.core.mjs', 'kiln.worker.mjs', 'kiln.iife.js', 'kiln.thread-worker.mjs'];
// Loaded only by sessions created with options.telemetry (vite.config.ts); the IIFE inlines it.
const TELEMETRY_CHUNKS = ['kiln.core-session-telemetry.mjs', 'kiln.worker-session-telemetry.mjs'];
for (const p of [...[...BROWSER_FILES, ...TELEMETRY_CHUNKS].flatMap((f) => [f, `${f}.map`]), 'node', 'cli', 'types']) rmSync(join(root, 'dist', p), { recursive: true, force: true });

for (const mode of ['production', 'core', 'worker', 'iife', 'thread', 'node', 'cli']) await build({ root, configFile, mode, logLevel: 'warn' });
const wasmSizes = buildWasm();

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  // Published declarations must match the code: type errors fail the build (tsc printed them above).
  console.error('build failed: tsc -p tsconfig.build.json reported type errors');
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sizes = Object.fromEntries([...BROWSER_FILES, ...TELEMETRY_CHUNKS].map((f) => {
  const bytes = readFileSync(join(root, 'dist', f));
  return [f, { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }];
}));
for (const [f, s] of Object.entries(sizes)) console.log(`dist/${f.padEnd(16)} ${kb(s.raw).padStart(9)}   gzip ${kb(s.gzip).padStart(8)}`);
// What a page fetches to run a model on WebGPU in a worker (the default), per way of loading Kiln.
const paths = [
  ['script tag: kiln.iife.js (its worker loads the same file)', ['kiln.iife.js']],
  ['ESM / npm: kiln.mjs + kiln.worker.mjs', ['kiln.mjs', 'kiln.worker.mjs']],
  ['ESM with { worker: false }: kiln.mjs + kiln.core.mjs', ['kiln.mjs', 'kiln.core.mjs']],
];
const BUDGET = 100 * 1024;
console.log('download for the WebGPU path (gzip):');
for (const [what, files] of paths) {
  const total = files.reduce((n, f) => n + sizes[f].gzip, 0);
  console.log(`  ${what.padEnd(56)} ${kb(total).padStart(9)}${total > BUDGET ? `   over the ${kb(BUDGET)} aim` : ''}`);
}
console.log(`  + telemetry, only when a session enables it (ESM): ${kb(sizes[TELEMETRY_CHUNKS[1]].gzip)} (inlined in kiln.iife.js)`);
for (const [f, s] of Object.entries(wasmSizes)) console.log(`dist/wasm/${f.padEnd(18)} ${kb(s.raw).padStart(9)}   gzip ${kb(s.gzip).padStart(8)}   (wasm backend only)`);
console.log(`build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
