// What a page downloads to run a model on WebGPU, for each way of loading Kiln, in gzip bytes:
// printed by scripts/build.mjs and held to BUDGET by test/delivery/bundle-size.test.ts.
// Each path is an entry file plus the files it imports statically (followed through the built code,
// so a shared chunk the bundler adds is counted) plus the model reader that path loads on demand;
// the wasm backend and telemetry are loaded only when a session asks for them (reported, not budgeted).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The aim of issue 14 item 5, for the script tag and for the ESM entry + worker. */
export const BUDGET = 100 * 1024;

/** Paths a page takes to a WebGPU session in a worker (the default), and without a worker. */
export const DOWNLOAD_PATHS = [
  { what: 'script tag, ONNX model', entries: ['kiln.iife.js'], lazy: ['kiln.iife-onnx-reader.js'] },
  { what: 'script tag, .kiln bundle', entries: ['kiln.iife.js'], lazy: ['kiln.iife-kiln-reader.js'] },
  { what: 'ESM, ONNX model', entries: ['kiln.mjs', 'kiln.worker.mjs'], lazy: ['kiln.worker-onnx-reader.mjs'] },
  { what: 'ESM, .kiln bundle', entries: ['kiln.mjs', 'kiln.worker.mjs'], lazy: ['kiln.worker-kiln-reader.mjs'] },
  { what: 'ESM { worker: false }, ONNX model', entries: ['kiln.mjs', 'kiln.core.mjs'], lazy: ['kiln.core-onnx-reader.mjs'] },
  { what: 'ESM { worker: false }, .kiln bundle', entries: ['kiln.mjs', 'kiln.core.mjs'], lazy: ['kiln.core-kiln-reader.mjs'] },
];

/** Loaded only when a session starts that backend or enables telemetry. */
export const ON_DEMAND = [
  { what: 'wasm backend (script tag / ESM worker)', files: ['kiln.iife-wasm.js', 'kiln.worker-start-wasm.mjs'] },
  { what: 'telemetry (script tag / ESM worker)', files: ['kiln.iife-telemetry.js', 'kiln.worker-session-telemetry.mjs'] },
  { what: 'QDQ graph passes (script tag / ESM worker)', files: ['kiln.iife-qdq-passes.js', 'kiln.worker-qdq-lowering.mjs'] },
  { what: 'attention passes (script tag / ESM worker)', files: ['kiln.iife-attention-passes.js', 'kiln.worker-attention-passes.mjs'] },
  { what: 'If / Loop / Scan expansion (script tag / ESM worker)', files: ['kiln.iife-control-flow.js', 'kiln.worker-control-flow.mjs'] },
  { what: 'generate() loop and KV cache (script tag / ESM worker)', files: ['kiln.iife-generate.js', 'kiln.worker-generate-here.mjs'] },
  // Op families outside the core set (kernels/lazy-families.ts), loaded when a model uses one of their ops.
  ...['quantized', 'transformer', 'sequence', 'vision', 'signal', 'ml'].map((g) => ({ what: `ops: ${g} (script tag / ESM worker)`, files: [`kiln.iife-ops-${g}.js`, `kiln.worker-ops-${g}.mjs`] })),
];

export const gzipBytes = (dist, file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;

/** `file` and every file it imports statically (ES modules; a classic script imports nothing). */
export function staticClosure(dist, file, seen = new Set()) {
  if (seen.has(file)) return seen;
  if (!existsSync(join(dist, file))) throw new Error(`dist/${file} is missing`);
  seen.add(file);
  const code = readFileSync(join(dist, file), 'utf8');
  // Static imports and re-exports of a sibling file; `import("./x")` (dynamic) is not followed.
  for (const m of code.matchAll(/(?:\bimport|\bexport)\s*(?:[\w$*{}\s,]*?\s*from\s*)?["']\.\/([\w.-]+)["']/g)) staticClosure(dist, m[1], seen);
  return seen;
}

/** Each path's files and gzip total; also checks that each lazy file is named by the code that loads it. */
export function measurePaths(dist) {
  return DOWNLOAD_PATHS.map(({ what, entries, lazy }) => {
    const files = new Set();
    for (const e of entries) staticClosure(dist, e, files);
    for (const l of lazy) {
      // The ESM builds name their chunk file; the script tag builds `kiln.iife-<name>.js` from the part's name.
      const named = l.startsWith('kiln.iife-') ? l.slice('kiln.iife-'.length, -'.js'.length) : l;
      if (![...files].some((f) => readFileSync(join(dist, f), 'utf8').includes(named))) throw new Error(`${what}: nothing in ${[...files].join(', ')} loads ${l}`);
      staticClosure(dist, l, files);
    }
    const gzip = [...files].reduce((n, f) => n + gzipBytes(dist, f), 0);
    return { what, files: [...files], gzip };
  });
}
