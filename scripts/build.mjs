#!/usr/bin/env node
// `npm run build`: the published files under dist/ (see package.json "exports").
//   dist/kiln.mjs (+ kiln.worker.mjs, kiln.core.mjs)   ESM browser build (vite.config.ts modes)
//   dist/kiln.iife.js                                  script tag, and its own worker script
//   dist/kiln.iife-<part>.js                           its lazy parts (wasm backend, telemetry, model readers), classic scripts
//   dist/kiln.{worker,core}-<part>.mjs                 the same parts as chunks of the ESM builds
//   dist/kiln.thread-worker.mjs                        the wasm backend's pool worker, started from beside the bundle
//   dist/node/index.js                                 Node entry (vite.config.ts, mode "node")
//   dist/cli/kiln.js                                   the `kiln` command (mode "cli")
//   dist/types/**                                      declarations (tsc -p tsconfig.build.json)
//   dist/wasm/kiln-{simd,relaxed}.wasm                 the wasm backend's kernels (scripts/build-wasm.mjs),
//                                                      fetched beside the bundle only when that backend starts
// Then prints the gzipped sizes of what a page downloads for each way of loading Kiln.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { buildWasm } from './build-wasm.mjs';
import { BUDGET, ON_DEMAND, gzipBytes, measurePaths } from './bundle-sizes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'vite.config.ts');
const started = Date.now();

// Only our outputs (every browser file and chunk is named kiln.*): other parts (e.g. the CLI) may build into dist/ too.
if (existsSync(join(root, 'dist'))) for (const f of readdirSync(join(root, 'dist'), { withFileTypes: true })) if (f.isFile() && f.name.startsWith('kiln.')) rmSync(join(root, 'dist', f.name), { force: true });
for (const p of ['node', 'cli', 'types']) rmSync(join(root, 'dist', p), { recursive: true, force: true });

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
const dist = join(root, 'dist');
for (const f of readdirSync(dist).filter((n) => n.startsWith('kiln.') && /\.m?js$/.test(n)).sort()) console.log(`dist/${f.padEnd(40)} gzip ${kb(gzipBytes(dist, f)).padStart(8)}`);
// What a page fetches to run a model on WebGPU (scripts/bundle-sizes.mjs; test/delivery/bundle-size.test.ts holds it to the budget).
console.log(`download for the WebGPU path (gzip; aim ${kb(BUDGET)}):`);
for (const { what, files, gzip } of measurePaths(dist)) console.log(`  ${what.padEnd(38)} ${kb(gzip).padStart(9)}${gzip > BUDGET ? '   OVER' : ''}   ${files.join(' + ')}`);
for (const { what, files } of ON_DEMAND) console.log(`  + ${what}, only when a session starts it: ${files.map((f) => kb(gzipBytes(dist, f))).join(' / ')}`);
for (const [f, s] of Object.entries(wasmSizes)) console.log(`dist/wasm/${f.padEnd(18)} ${kb(s.raw).padStart(9)}   gzip ${kb(s.gzip).padStart(8)}   (wasm backend only)`);
console.log(`build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
