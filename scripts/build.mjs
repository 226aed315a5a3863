#!/usr/bin/env node
// `npm run build`: the published files under dist/ (see package.json "exports").
//   dist/kiln.mjs, dist/kiln.iife.js   browser builds (vite.config.ts, default mode)
//   dist/node/index.js                 Node entry (vite.config.ts, mode "node")
//   dist/types/**                      declarations (tsc -p tsconfig.build.json)
// Then prints the gzipped sizes of the browser builds.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'vite.config.ts');
const started = Date.now();

// Only our outputs: other parts (e.g. the CLI) may build into dist/ too.
for (const p of ['kiln.mjs', 'kiln.mjs.map', 'kiln.iife.js', 'kiln.iife.js.map', 'node', 'types']) rmSync(join(root, 'dist', p), { recursive: true, force: true });

await build({ root, configFile, mode: 'production', logLevel: 'warn' });
await build({ root, configFile, mode: 'node', logLevel: 'warn' });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  // Published declarations must match the code: type errors fail the build (tsc printed them above).
  console.error('build failed: tsc -p tsconfig.build.json reported type errors');
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const file of ['dist/kiln.mjs', 'dist/kiln.iife.js']) {
  const bytes = readFileSync(join(root, file));
  console.log(`${file.padEnd(20)} ${kb(bytes.length).padStart(9)}   gzip ${kb(gzipSync(bytes, { level: 9 }).length).padStart(8)}`);
}
console.log(`build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
