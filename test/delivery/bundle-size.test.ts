// Issue 14 item 5: what a page downloads to run a model on WebGPU is at most 100 KB gzip, for the
// script tag and for the ESM entry + worker (scripts/bundle-sizes.mjs says which files each path
// loads). Sizes of a build are deterministic: this is a byte count, not a timing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureBuild } from '../../scripts/browser/ensure-build.ts';
import { BUDGET, DOWNLOAD_PATHS, measurePaths, staticClosure } from '../../scripts/bundle-sizes.mjs';
import { repoRoot } from '../helpers/paths.ts';

const dist = join(repoRoot, 'dist');
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

before(async () => {
  console.log(`# ${await ensureBuild()}`);
});

test('every WebGPU download path is within 100 KB gzip', () => {
  const paths = measurePaths(dist);
  assert.equal(paths.length, DOWNLOAD_PATHS.length);
  for (const p of paths) console.log(`# ${p.what}: ${kb(p.gzip)} (${kb(BUDGET - p.gzip)} left) = ${p.files.join(' + ')}`);
  const over = paths.filter((p) => p.gzip > BUDGET).map((p) => `${p.what}: ${kb(p.gzip)}`);
  assert.deepEqual(over, [], `over the ${kb(BUDGET)} budget (scripts/bundle-breakdown.mjs shows where the bytes are)`);
});

test('the lazy parts stay out of the entry files', () => {
  // A static import of a lazy part would put it back on every path (and in this count).
  for (const entry of ['kiln.worker.mjs', 'kiln.core.mjs']) {
    const files = [...staticClosure(dist, entry)];
    assert.deepEqual(files.filter((f) => /(start-wasm|session-telemetry|kiln-reader|onnx-reader|onnx-early|backend-choice|ops-|generate-here)/.test(f)), [], `${entry} imports statically: ${files.join(', ')}`);
  }
});

test('each ESM runtime entry is one file: what every session needs is not split into shared chunks', () => {
  // Each extra file is gzipped alone (and is one more request): a dozen small shared chunks cost ~5 KB (vite.config.ts).
  for (const entry of ['kiln.mjs', 'kiln.worker.mjs', 'kiln.core.mjs']) assert.deepEqual([...staticClosure(dist, entry)], [entry]);
});

test('the ONNX reader part holds no Range read-ahead: it loads only for a download from a server that answers Range requests', () => {
  for (const build of ['worker', 'core']) {
    assert.ok(readFileSync(join(dist, `kiln.${build}-onnx-reader.mjs`), 'utf8').includes(`kiln.${build}-onnx-early.mjs`), `kiln.${build}-onnx-reader.mjs names its lazy part`);
    const files = [...staticClosure(dist, `kiln.${build}-onnx-reader.mjs`)];
    assert.deepEqual(files.filter((f) => f.includes('onnx-early')), [], `kiln.${build}-onnx-reader.mjs imports statically: ${files.join(', ')}`);
  }
});

test('the page entry holds no generate() loop: it runs beside the runtime (worker, kiln.core.mjs)', () => {
  // kiln.mjs inlines its dynamic imports, so a path from the page's generate() to the loop would put
  // the loop and the KV rewrite pass in it: their op names would then appear in its text.
  const code = readFileSync(join(dist, 'kiln.mjs'), 'utf8');
  assert.ok(code.includes('generate'), 'kiln.mjs exports generate()');
  assert.deepEqual(['KvCacheWrite', 'kiln_kv_offset'].filter((s) => code.includes(s)), []);
});
