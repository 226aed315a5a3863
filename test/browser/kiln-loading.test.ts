// .kiln bundles from URLs in Chromium through the script-tag build (session in the worker): streamed
// with progress, the Ed25519 signature verified with the page's key, the same outputs as the ONNX of
// the same model, kept in the Cache API (the second load makes no request and is verified again),
// and a corrupted section refused with INTEGRITY across the worker boundary, never cached.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type * as Kiln from '../../runtime/index.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { MODEL_CACHE_NAME } from '../../runtime/loading/fetch-model.ts';
import { ed25519Pair, layeredMlp } from '../format/kiln-fixture.ts';
import { openDeliveryBed, type DeliveryBed } from './helpers/delivery-bed.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

type KilnModule = typeof Kiln;
const TIMEOUT = 90_000;
const dir = mkdtempSync(join(tmpdir(), 'kiln-bundles-'));
let bed: DeliveryBed | undefined;
let rawKey: number[] = [];
let otherKey: number[] = [];
let size = 0;

before(async () => {
  const model = layeredMlp();
  const keys = await ed25519Pair();
  const spec = { outputs: [{ name: 'y', labels: ['a', 'b'] }], metadata: { name: 'mlp' } };
  const signed = await encodeKilnBundle(model, spec, { sectionBytes: 64 << 10, signingKey: keys.privateKey });
  size = signed.length;
  mkdirSync(join(dir, 'slow'));
  writeFileSync(join(dir, 'slow', 'mlp.kiln'), signed); // under /slow/: sent in 64 KiB pieces 50 ms apart
  writeFileSync(join(dir, 'mlp.kiln'), signed);
  writeFileSync(join(dir, 'esm.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module">import * as kiln from "/dist/kiln.mjs"; window.kiln = kiln;</script>');
  writeFileSync(join(dir, 'mlp.onnx'), encodeOnnxModel(model));
  const { header } = await readKilnBundle(signed);
  const corrupt = signed.slice();
  corrupt[signed.length - header.dataLength + header.sections[2]!.offset + 7]! ^= 0x01;
  writeFileSync(join(dir, 'corrupt.kiln'), corrupt);
  rawKey = Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey)));
  otherKey = Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', (await ed25519Pair()).publicKey)));
  bed = await openDeliveryBed({ '/kiln/': dir });
});

after(async () => {
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface LoadResult {
  ok: boolean;
  code?: string;
  message?: string;
  isKilnError?: boolean;
  progress: [number, number][];
  bundle?: unknown;
  provider?: string;
  verified?: boolean;
  y?: number[];
  reference?: number[];
  cached: boolean;
}

/** In the page: create a session on `url` with the key, run it and the ONNX reference on one random input. */
function load(page: import('playwright-core').Page, url: string, key: number[], compare = false): Promise<LoadResult> {
  const input = rng.floats(2 * 128, -1, 1); // drawn here, so the run's seed decides it
  return page.evaluate(async ({ url, key, cacheName, compare, input }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const publicKey = await kiln.importKilnPublicKey(Uint8Array.from(key));
    const progress: [number, number][] = [];
    // a gated URL (counting-server.ts) sends the rest of the body once the page reported a part of it
    const sawPart = (globalThis as { kilnTestSawPart?: () => Promise<void> }).kilnTestSawPart;
    const onProgress = (l: number, t: number): void => {
      progress.push([l, t]);
      if (l > 0 && l < t) void sawPart?.();
    };
    const cached = async (): Promise<boolean> => (await (await caches.open(cacheName)).match(new URL(url, location.href).href)) !== undefined;
    try {
      const s = await kiln.InferenceSession.create(url, { executionProviders: ['webgpu'], publicKey, requireSignature: true, onProgress });
      const result: LoadResult = { ok: true, progress, bundle: s.bundle, verified: s.verification.verified, provider: s.executionProvider, cached: await cached() };
      if (compare) {
        const ref = await kiln.InferenceSession.create('/kiln/mlp.onnx', { executionProviders: ['webgpu'] });
        const data = Float32Array.from(input);
        result.y = Array.from((await s.run({ x: new kiln.Tensor('float32', data.slice(), [2, 128]) })).y!.data as Float32Array);
        result.reference = Array.from((await ref.run({ x: new kiln.Tensor('float32', data.slice(), [2, 128]) })).y!.data as Float32Array);
        await ref.release();
      }
      await s.release();
      return result;
    } catch (e) {
      const err = e as Error & { code?: string };
      return { ok: false, code: err.code, message: err.message, isKilnError: e instanceof kiln.KilnError, progress, cached: await cached() };
    }
  }, { url, key, cacheName: MODEL_CACHE_NAME, compare, input });
}

test('a signed .kiln URL streams with progress, verifies in the worker, runs like its ONNX, and is cached', { timeout: TIMEOUT }, async () => {
  const { page } = await bed!.open('/pages/script-tag.html');
  const path = '/kiln/slow/mlp.kiln';
  await page.exposeFunction('kilnTestSawPart', () => bed!.server.openGate(path));
  const first = await load(page, `${path}?gated`, rawKey, true);
  assert.equal(first.ok, true, first.message);
  assert.equal(first.provider, 'webgpu');
  assert.equal(first.verified, true, 'the worker front-end reports the verification');
  assert.deepEqual(first.bundle, { outputs: [{ name: 'y', labels: ['a', 'b'] }], metadata: { name: 'mlp' } });
  assert.ok(first.progress.length >= 3 && first.progress.some(([l, t]) => l > 0 && l < t), `streamed in pieces (${JSON.stringify(first.progress)})`);
  assert.deepEqual(first.progress.at(-1), [size, size]);
  assert.deepEqual(first.y, first.reference, 'the same outputs as the ONNX of the same model');
  assert.ok(first.y!.some((v) => v !== 0));
  assert.equal(first.cached, true);
  assert.equal(bed!.server.count(path), 1);
  // From the cache: no request, and the signature is checked again (a wrong key fails).
  const second = await load(page, `${path}?gated`, rawKey); // the cached URL (the gate is open by now)
  assert.equal(second.ok, true, second.message);
  const wrongKey = await load(page, `${path}?gated`, otherKey);
  assert.deepEqual([wrongKey.ok, wrongKey.isKilnError, wrongKey.code], [false, true, 'INTEGRITY']);
  assert.match(wrongKey.message!, /signature does not match/);
  assert.equal(bed!.server.count(path), 1, 'later loads make no request');
});

test('a .kiln URL with a corrupted section fails with INTEGRITY naming it, and is not cached', { timeout: TIMEOUT }, async () => {
  const { page } = await bed!.open('/pages/script-tag.html');
  const r = await load(page, '/kiln/corrupt.kiln', rawKey);
  assert.deepEqual([r.ok, r.isKilnError, r.code], [false, true, 'INTEGRITY']);
  assert.match(r.message!, /section 2 failed its SHA-256 check/);
  assert.equal(r.cached, false);
});

test('ESM build: ONNX pages never fetch the .kiln reader; the worker loads it when a bundle arrives', { timeout: TIMEOUT }, async () => {
  const { page } = await bed!.open('/kiln/esm.html');
  await page.waitForFunction(() => 'kiln' in globalThis);
  const chunk = /kiln\.worker-kiln-reader\.mjs$/;
  const onnx = await page.evaluate(async () => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const s = await kiln.InferenceSession.create('/kiln/mlp.onnx', { executionProviders: ['cpu'] });
    await s.release();
    return s.inputNames;
  });
  assert.deepEqual(onnx, ['x']);
  assert.equal(bed!.server.count(chunk), 0, 'an ONNX load does not download the .kiln reader');
  const r = await load(page, '/kiln/mlp.kiln', rawKey);
  assert.equal(r.ok, true, r.message);
  assert.deepEqual(r.bundle, { outputs: [{ name: 'y', labels: ['a', 'b'] }], metadata: { name: 'mlp' } });
  assert.equal(bed!.server.count(chunk), 1, 'the reader chunk was fetched for the bundle');
});
