// The wasm backend where a page cannot give it everything, in Chromium with the script-tag build:
// - a page that is not cross-origin isolated: numThreads 2 runs on 1 thread and says why, with the
//   same answers (threads on in an isolated page: test/wasm/threads-bundle.test.ts);
// - a Content-Security-Policy without 'wasm-unsafe-eval': 'wasm' fails to start with a typed error,
//   ['wasm', 'js'] and the alias 'cpu' run plain TypeScript and say why.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type * as Kiln from '../../runtime/index.ts';
import type { ExecutionProvider } from '../../runtime/api/inference-session.ts';
import { openTestBed, type TestBed } from '../../scripts/browser/test-bed.ts';
import { testRng } from '../helpers/random.ts';

type KilnModule = typeof Kiln;
const rng = testRng(import.meta.url);
const [M, K, N] = [261, 131, 75]; // above the thread pool's threshold, with tails
const b = rng.floats(K * N, -1, 1);
const a = rng.floats(M * K, -1, 1);
const model = Array.from(encodeOnnxModel({
  nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [{ name: 'a', dtype: 'float32', dims: [M, K] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }],
  initializers: { b: new Tensor('float32', Float32Array.from(b), [K, N]) },
}));

/** y = a x b in float64: any float32 summation order lands within 1e-4 of it for these sizes. */
const expected = ((): Float64Array => {
  const y = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) y[i * N + j]! += Math.fround(a[i * K + k]!) * Math.fround(b[k * N + j]!);
  return y;
})();

function assertClose(y: readonly number[], what: string): void {
  assert.equal(y.length, M * N, what);
  for (let i = 0; i < y.length; i++) if (!(Math.abs(y[i]! - expected[i]!) <= 1e-4)) assert.fail(`${what}: y[${i}] = ${y[i]}, want ${expected[i]} (seed ${rng.seed})`);
}

interface Outcome { ok: true; provider: string; info: string; threads: number | undefined; y: number[] }
interface Failure { ok: false; name: string; code: string | undefined; message: string }

async function runIn(bed: TestBed, providers: ExecutionProvider[], worker: boolean): Promise<Outcome | Failure> {
  const page = await bed.open('/test/browser/pages/iife.html');
  try {
    return await page.evaluate(async ({ model, a, dims, providers, worker }) => {
      const kiln = (globalThis as unknown as { kiln: KilnModule }).kiln; // the script-tag build's global
      try {
        const s = await kiln.InferenceSession.create(new Uint8Array(model), { executionProviders: providers, worker });
        const out = await s.run({ a: new kiln.Tensor('float32', new Float32Array(a), dims) });
        const r = { ok: true as const, provider: s.executionProvider, info: s.adapterInfo, threads: s.lastPlacement?.threads, y: Array.from(out['y']!.data as Float32Array) };
        await s.release();
        return r;
      } catch (e) {
        const err = e as { name?: string; code?: string; message?: string };
        return { ok: false as const, name: String(err.name), code: err.code, message: String(err.message) };
      }
    }, { model, a, dims: [M, K], providers, worker });
  } finally {
    await page.close();
  }
}

describe('a page that is not cross-origin isolated', () => {
  let bed: TestBed | undefined;
  after(async () => bed?.close());
  for (const worker of [false, true]) {
    test(`numThreads 2 runs on 1 thread and says why (worker: ${worker})`, async () => {
      bed ??= await openTestBed({}, { isolated: false });
      const r = await runIn(bed, [{ name: 'wasm', numThreads: 2 }], worker);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.provider, 'wasm');
      assert.equal(r.threads, 1);
      assert.match(r.info, /1 thread: the page is not cross-origin isolated/);
      assertClose(r.y, 'wasm on 1 thread');
      assert.deepEqual(bed.pageErrors, []);
    });
  }
});

describe("a Content-Security-Policy without 'wasm-unsafe-eval'", () => {
  let bed: TestBed | undefined;
  after(async () => bed?.close());
  const open = async (): Promise<TestBed> => (bed ??= await openTestBed({}, { headers: { 'Content-Security-Policy': "script-src 'self'; worker-src 'self'" } }));
  for (const worker of [false, true]) {
    test(`'wasm' fails with DEVICE_UNAVAILABLE; ['wasm', 'js'] and 'cpu' run plain TypeScript (worker: ${worker})`, async () => {
      const b = await open();
      const wasm = await runIn(b, ['wasm'], worker);
      assert.ok(!wasm.ok && wasm.name === 'KilnError' && wasm.code === 'DEVICE_UNAVAILABLE', JSON.stringify(wasm));
      const listed = await runIn(b, ['wasm', 'js'], worker);
      assert.ok(listed.ok && listed.provider === 'js', JSON.stringify(listed));
      assertClose(listed.y, "['wasm', 'js'] under the CSP");
      const alias = await runIn(b, ['cpu'], worker);
      assert.ok(alias.ok, JSON.stringify(alias));
      assert.equal(alias.provider, 'js');
      assert.match(alias.info, /^js \(wasm could not start: /);
      assertClose(alias.y, "'cpu' under the CSP");
    });
  }
});
