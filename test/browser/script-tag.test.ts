// The script-tag build in Chromium: <script src="kiln.iife.js"> defines window.kiln, which runs a
// model on WebGPU and on the CPU, and reports bad models as KilnError.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { squareInput, squareModel } from './helpers/square-model.ts';
import type * as Kiln from '../../runtime/index.ts';
import { openTestBed, type TestBed } from '../../scripts/browser/test-bed.ts';

type KilnModule = typeof Kiln;

const model = squareModel;
const x = squareInput;
const expected = x.map((v, i) => Math.fround(Math.fround(v * v) + [0.5, -1, 2][i % 3]!));

let bed: TestBed | undefined;
let page: Page | undefined;

before(async () => {
  bed = await openTestBed();
  page = await bed.open('/test/browser/pages/iife.html');
});

after(async () => {
  await bed?.close();
});

test('window.kiln exposes InferenceSession, Tensor and KilnError', async () => {
  assert.ok(page);
  const names = await page.evaluate(() => {
    const kiln = (globalThis as { kiln?: Record<string, unknown> }).kiln;
    return kiln ? Object.keys(kiln).filter((k) => typeof kiln[k] === 'function').sort() : [];
  });
  assert.deepEqual(names, ['InferenceSession', 'KilnError', 'Tensor', 'generate', 'importKilnPublicKey']);
});

for (const backend of ['webgpu', 'wasm', 'js'] as const) {
  test(`window.kiln runs a model on ${backend}`, async () => {
    assert.ok(page);
    const r = await page.evaluate(
      async ({ bytes, x, backend }) => {
        const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
        const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: [backend] });
        try {
          const out = await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
          const y = out.y!;
          return { provider: session.executionProvider, dims: [...y.dims], data: Array.from(y.data as Float32Array) };
        } finally {
          await session.release();
        }
      },
      { bytes: Array.from(model), x, backend },
    );
    assert.deepEqual(r, { provider: backend, dims: [2, 3], data: expected });
  });
}

// The wasm backend is a lazy part (dist/kiln.iife-wasm.js): loaded by importScripts in the worker,
// by a <script> element in the page. Its errors are the page's own KilnError class (one class, shared).
for (const worker of [true, false]) {
  test(`window.kiln loads the wasm backend on first use and runs a model on it (${worker ? 'in its worker' : 'in the page'})`, async () => {
    assert.ok(page);
    const r = await page.evaluate(
      async ({ bytes, x, worker }) => {
        const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
        const badThreads = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: [{ name: 'wasm', numThreads: 0 }], worker })
          .then(() => 'no error', (e: unknown) => (e instanceof kiln.KilnError ? e.code : `not a KilnError: ${String(e)}`));
        const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['wasm'], worker });
        try {
          const out = await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
          const y = out.y!;
          const parts = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('kiln.iife-wasm.js'));
          return { provider: session.executionProvider, dims: [...y.dims], data: Array.from(y.data as Float32Array), badThreads, pageLoadedPart: parts.length > 0 };
        } finally {
          await session.release();
        }
      },
      { bytes: Array.from(model), x, worker },
    );
    assert.deepEqual(r, { provider: 'wasm', dims: [2, 3], data: expected, badThreads: 'INVALID_ARGUMENT', pageLoadedPart: !worker });
  });
}

// Telemetry is a lazy part too (dist/kiln.iife-telemetry.js): a session that asks for it gets it.
for (const worker of [true, false]) {
  test(`window.kiln loads telemetry for a session that asks for it (${worker ? 'in its worker' : 'in the page'})`, async () => {
    assert.ok(page);
    const r = await page.evaluate(
      async ({ bytes, x, worker }) => {
        const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
        const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'], worker, telemetry: {} });
        try {
          await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
          const snap = await session.telemetry.snapshot();
          return { enabled: snap.enabled, runs: snap.runs, hasRunLatency: Object.keys(snap.latency).length > 0, coldStart: Object.keys(snap.coldStart).length > 0 };
        } finally {
          await session.release();
        }
      },
      { bytes: Array.from(model), x, worker },
    );
    assert.deepEqual(r, { enabled: true, runs: 1, hasRunLatency: true, coldStart: true });
  });
}

test('window.kiln reports a bad model as a KilnError with a code', async () => {
  assert.ok(page);
  const r = await page.evaluate(async () => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    try {
      await kiln.InferenceSession.create(new Uint8Array([8, 1, 2]), { executionProviders: ['cpu'] });
      return 'no error';
    } catch (e) {
      return e instanceof kiln.KilnError ? e.code : `not a KilnError: ${String(e)}`;
    }
  });
  assert.equal(r, 'INVALID_MODEL');
});

test('no uncaught errors in the page', () => {
  assert.deepEqual(bed?.pageErrors ?? [], []);
});
