// The published browser builds (dist/, via the test bed: COOP/COEP, Chromium) run wasm sessions on a
// thread pool: the script-tag and the ES module builds, in the page ({ worker: false }) and in their
// session worker, run a
// MatMul model with numThreads 2 on 2 threads (found kiln.thread-worker.mjs beside the bundle), with
// the same output bits as numThreads 1, and says so in adapterInfo and lastPlacement.threads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type * as Kiln from '../../runtime/index.ts';
import { openTestBed, type TestBed } from '../../scripts/browser/test-bed.ts';
import { testRng } from '../helpers/random.ts';

type KilnModule = typeof Kiln;
const rng = testRng(import.meta.url);
const [M, K, N] = [261, 131, 75]; // above the pool's threshold, with M and N tails
const model = Array.from(encodeOnnxModel({
  nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [{ name: 'a', dtype: 'float32', dims: [M, K] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }],
  initializers: { b: new Tensor('float32', Float32Array.from(rng.floats(K * N, -1, 1)), [K, N]) },
}));
const a = rng.floats(M * K, -1, 1);

let bed: TestBed | undefined;
let page: Page | undefined;

before(async () => {
  bed = await openTestBed();
  page = await bed.open('/test/browser/pages/iife.html');
});

after(async () => {
  await bed?.close();
});

interface Run { info: string; threads: number | undefined; y: number[] }

for (const [build, worker] of [['script-tag', false], ['script-tag', true], ['ES module', false], ['ES module', true]] as const) {
  test(`${build} build, worker: ${worker}: numThreads 2 runs on 2 threads, same bits as 1 thread (seed ${rng.seed})`, async () => {
    assert.ok(page);
    const [one, two] = await page.evaluate(async ({ model, a, dims, worker, esm }) => {
      const esmUrl = '/dist/kiln.mjs'; // a variable, so tsc does not resolve it
      const kiln = esm ? ((await import(esmUrl)) as KilnModule) : (globalThis as unknown as { kiln: KilnModule }).kiln; // the script-tag build's global
      const runs: Run[] = [];
      for (const numThreads of [1, 2]) {
        const s = await kiln.InferenceSession.create(new Uint8Array(model), { executionProviders: [{ name: 'wasm', numThreads }], worker });
        const out = await s.run({ a: new kiln.Tensor('float32', new Float32Array(a), dims) });
        runs.push({ info: s.adapterInfo, threads: s.lastPlacement?.threads, y: Array.from(out['y']!.data as Float32Array) });
        await s.release();
      }
      return runs;
    }, { model, a, dims: [M, K], worker, esm: build === 'ES module' });
    assert.equal(one!.threads, 1);
    assert.match(one!.info, /1 thread\)/);
    assert.equal(two!.threads, 2, two!.info);
    assert.match(two!.info, /2 threads/);
    assert.equal(two!.y.length, M * N);
    assert.ok(two!.y.every((v, i) => Object.is(v, one!.y[i])), 'outputs differ between 1 and 2 threads');
    assert.deepEqual(bed?.pageErrors, []);
  });
}
