// generate() in Chromium (issue 13, items 3 and 4): with the session in the Kiln worker, generation
// runs there (the page sends options, gets tokens streamed and the result), so the KV cache is
// written in place (result.cache 'inplace') on the worker's CPU backend and on WebGPU, and in the
// page ({ worker: false }) too; every one gives the tokens Node's session gives, greedy and seeded.
// A worker session refuses gpu-buffer outputs with a typed error, and an AbortSignal stops a worker
// generation. The script-tag build and the ESM build (its worker's lazily loaded generate chunk).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type * as Kiln from '../../runtime/index.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';
import { openDeliveryBed, type DeliveryBed } from './helpers/delivery-bed.ts';

type KilnModule = typeof Kiln;
const TIMEOUT = 120_000;
const config: TinyGptConfig = { vocab: 40, embed: 16, heads: 2, layers: 2, maxPositions: 32 };
const rng = testRng(import.meta.url, 'weights');
const model = encodeOnnxModel(tinyGpt(config, rng));
const prompt = Array.from({ length: 4 }, () => rng.int(config.vocab));
const presents = Array.from({ length: config.layers }, (_, l) => (['key', 'value'] as const).map((kv) => kvName('present', undefined, l, kv))).flat();

let bed: DeliveryBed | undefined;
before(async () => {
  bed = await openDeliveryBed();
});
after(async () => {
  await bed?.close();
});

const SAMPLED = { temperature: 0.9, topK: 12, seed: 7 };

for (const build of ['/pages/script-tag.html', '/pages/esm.html'] as const) {
  test(`generate() in the worker and in the page, in place on CPU and WebGPU: the tokens Node computes (${build})`, { timeout: TIMEOUT }, async () => {
    const node = await InferenceSession.create(model, { executionProviders: ['wasm'] });
    const greedy = await generate(node, { inputIds: prompt, maxNewTokens: 8 });
    const sampled = await generate(node, { inputIds: prompt, maxNewTokens: 8, ...SAMPLED });
    await node.release();
    assert.equal(greedy.cache, 'inplace', 'Node writes the tiny GPT\'s cache in place');
    assert.ok(bed, 'the test bed did not start (see the before hook)');
    const { page } = await bed.open(build);
    await page.waitForFunction(() => 'kiln' in globalThis);
    const r = await page.evaluate(async ({ bytes, prompt, presents, sampledOptions }) => {
      const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
      const inWorker = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'] });
      const streamed: number[] = [];
      const worker = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 8, onToken: (t) => void streamed.push(t) });
      const workerSampled = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 8, ...sampledOptions });
      const controller = new AbortController();
      const aborted = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 8, signal: controller.signal, onToken: (_, i) => void (i === 1 && controller.abort()) })
        .then(() => undefined, (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, code: (e as { code?: string }).code, tokens: ((e as { details?: { tokens?: number[] } }).details?.tokens ?? []).length }));
      const workerProvider = inWorker.executionProvider;
      await inWorker.release();
      const afterRelease = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 2 }).then(() => undefined, (e: unknown) => (e as { code?: string }).code);
      const gpuWorker = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'] });
      const onGpu = await kiln.generate(gpuWorker, { inputIds: prompt, maxNewTokens: 8 });
      const gpuSampled = await kiln.generate(gpuWorker, { inputIds: prompt, maxNewTokens: 8, ...sampledOptions });
      const gpuProvider = gpuWorker.executionProvider;
      await gpuWorker.release();
      const refused = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' })
        .then(() => undefined, (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, code: (e as { code?: string }).code, message: (e as Error).message }));
      const where = Object.fromEntries(presents.map((n) => [n, 'gpu-buffer' as const]));
      const inPage = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], worker: false, preferredOutputLocation: where });
      const local = await kiln.generate(inPage, { inputIds: prompt, maxNewTokens: 8 });
      const provider = inPage.executionProvider;
      await inPage.release();
      const pick = (g: { tokens: number[]; cache: string }): { tokens: number[]; cache: string } => ({ tokens: g.tokens, cache: g.cache });
      return { worker: pick(worker), workerSampled: pick(workerSampled), streamed, aborted, afterRelease, workerProvider, onGpu: pick(onGpu), gpuSampled: pick(gpuSampled), gpuProvider, refused, local: pick(local), provider };
    }, { bytes: Array.from(model), prompt, presents, sampledOptions: SAMPLED });
    const want = { tokens: greedy.tokens, cache: 'inplace' };
    assert.equal(r.workerProvider, 'wasm');
    assert.deepEqual(r.worker, want, `worker tokens (seed ${rng.seed})`);
    assert.deepEqual(r.streamed, greedy.tokens);
    assert.deepEqual(r.workerSampled, { tokens: sampled.tokens, cache: 'inplace' }, 'seeded sampling in the worker picks what Node picks');
    assert.deepEqual(r.aborted, { isKilnError: true, code: 'ABORTED', tokens: 2 });
    assert.equal(r.afterRelease, 'RELEASED');
    assert.equal(r.gpuProvider, 'webgpu');
    assert.deepEqual(r.onGpu, want, `worker WebGPU tokens (seed ${rng.seed})`);
    assert.deepEqual(r.gpuSampled, { tokens: sampled.tokens, cache: 'inplace' });
    assert.ok(r.refused, 'a worker session with gpu-buffer outputs is refused');
    assert.equal(r.refused.code, 'INVALID_ARGUMENT');
    assert.ok(r.refused.isKilnError);
    assert.match(r.refused.message, /worker: false/);
    assert.equal(r.provider, 'webgpu');
    assert.deepEqual(r.local, want, `in-page WebGPU tokens (seed ${rng.seed})`);
  });
}
