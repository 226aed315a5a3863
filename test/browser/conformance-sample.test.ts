// A sample of the ONNX conformance cases run in Chromium through dist/kiln.mjs, on WebGPU
// (SwiftShader) and on the CPU backend. The full set runs in Node (test/conformance); this checks
// the browser build, navigator.gpu and fetch-based loading on cases spread over every suite.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { bundlePageEntry } from '../../scripts/browser/bundle-page.ts';
import { openTestBed, type TestBed } from '../../scripts/browser/test-bed.ts';
import { listCases, unsupportedReason, type ConformanceCase } from '../conformance/conformance-cases.ts';
import { conformanceDir, repoRoot } from '../helpers/paths.ts';
import { knownFailure } from '../known-failures.ts';
import type { BrowserCase, BrowserCaseResult, ConformanceHarness } from './pages/conformance-entry.ts';

const SAMPLE_SIZE = Number(process.env.KILN_BROWSER_SAMPLE ?? 40);
const BACKENDS = ['webgpu', 'wasm', 'js'] as const;
const filter = process.env.KILN_CONFORMANCE_FILTER ? new RegExp(process.env.KILN_CONFORMANCE_FILTER) : undefined;

/**
 * Up to `size` runnable cases, deterministic for a given repo state: each suite gets a share in
 * proportion to its runnable cases (at least 4 when it has them), taken at even steps through its
 * sorted names so the sample crosses many op families.
 */
export function sampleCases(runnable: readonly ConformanceCase[], size: number): ConformanceCase[] {
  const bySuite = new Map<string, ConformanceCase[]>();
  for (const c of runnable) bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), c]);
  const out: ConformanceCase[] = [];
  for (const cases of bySuite.values()) {
    const share = Math.min(cases.length, Math.max(4, Math.round((size * cases.length) / runnable.length)));
    for (let i = 0; i < share; i++) out.push(cases[Math.floor((i * cases.length) / share)]!);
  }
  return out;
}

/** URLs the page fetches: the shared conformance folder is served at /conformance/. */
function describeCase(c: ConformanceCase): BrowserCase {
  const url = (file: string): string => `/conformance/${relative(conformanceDir, file).split('\\').join('/')}`;
  const graph = readOnnxModel(readFileSync(join(c.dir, 'model.onnx'))).graph;
  const dataSets = readdirSync(c.dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const files = (prefix: string, names: readonly string[]): [string, string][] =>
        readdirSync(join(c.dir, d))
          .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
          .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
          .flatMap((f, i) => (names[i] === undefined ? [] : [[names[i], url(join(c.dir, d, f))] as [string, string]]));
      return { inputs: files('input_', graph.inputs.map((v) => v.name)), outputs: files('output_', graph.outputs.map((v) => v.name)) };
    });
  return { name: c.name, modelUrl: url(join(c.dir, 'model.onnx')), dataSets };
}

const runnable = listCases().filter((c) => (!filter || filter.test(`${c.suite}/${c.name}`)) && unsupportedReason(c) === undefined);
const sample = sampleCases(runnable, SAMPLE_SIZE);

let bed: TestBed | undefined;
let page: Page | undefined;
const bundleDir = mkdtempSync(join(tmpdir(), 'kiln-browser-'));

before(async () => {
  await bundlePageEntry(join(repoRoot, 'test/browser/pages/conformance-entry.ts'), bundleDir);
  bed = await openTestBed({ '/__test__/': bundleDir });
  page = await bed.open('/test/browser/pages/conformance.html');
  await page.waitForFunction(() => 'kilnConformance' in globalThis, undefined, { timeout: 30_000 });
});

after(async () => {
  await bed?.close();
  rmSync(bundleDir, { recursive: true, force: true });
  console.log(`# browser conformance sample: ${sample.length} of ${runnable.length} runnable cases, on ${BACKENDS.join(' and ')}`);
});

function runInPage(c: BrowserCase, backend: (typeof BACKENDS)[number]): Promise<BrowserCaseResult> {
  assert.ok(page, 'the page did not open (see the before hook)');
  return page.evaluate(({ c, backend }) => (globalThis as { kilnConformance?: ConformanceHarness }).kilnConformance!.runCase(c, backend), { c, backend });
}

test('the page is cross-origin isolated and WebGPU gives a SwiftShader adapter', async () => {
  assert.ok(page, 'the page did not open');
  const env = await page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    return { isolated: globalThis.crossOriginIsolated, hasGpu: 'gpu' in navigator, vendor: adapter?.info.vendor, architecture: adapter?.info.architecture };
  });
  assert.deepEqual(env, { isolated: true, hasGpu: true, vendor: 'google', architecture: 'swiftshader' });
});

for (const backend of BACKENDS) {
  describe(`browser conformance sample on ${backend}`, () => {
    for (const c of sample) {
      const id = `${c.suite}/${c.name}`;
      test(id, { skip: knownFailure(backend, id), timeout: 120_000 }, async () => {
        const described = describeCase(c);
        assert.ok(described.dataSets.length > 0 && described.dataSets.every((ds) => ds.outputs.length > 0), 'the case has expected outputs to compare');
        const r = await runInPage(described, backend);
        assert.equal(r.error, undefined, r.error);
        // A session that silently fell back would prove nothing about WebGPU in the browser.
        assert.equal(r.executionProvider, backend, 'the requested backend must run it');
        assert.deepEqual(r.problems, []);
      });
    }
  });
}

test('no uncaught errors in the page', () => {
  assert.deepEqual(bed?.pageErrors ?? [], []);
});
