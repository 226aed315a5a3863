// generate() in Chromium through the script-tag build (issue 13, item 4): with the session in the
// Kiln worker (the cache crosses as transferables each step) and in the page on WebGPU with the
// cache resident in GPU buffers; both give the tokens Node's wasm session gives. A worker session
// refuses gpu-buffer outputs with a typed error, and an AbortSignal stops a worker generation.
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

test('generate() with the session in the worker and in the page on WebGPU: the tokens Node computes', { timeout: TIMEOUT }, async () => {
  const node = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  const want = (await generate(node, { inputIds: prompt, maxNewTokens: 8 })).tokens;
  await node.release();
  assert.ok(bed, 'the test bed did not start (see the before hook)');
  const { page } = await bed.open('/pages/script-tag.html');
  await page.waitForFunction(() => 'kiln' in globalThis);
  const r = await page.evaluate(async ({ bytes, prompt, presents }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const inWorker = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'] });
    const streamed: number[] = [];
    const worker = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 8, onToken: (t) => void streamed.push(t) });
    const controller = new AbortController();
    const aborted = await kiln.generate(inWorker, { inputIds: prompt, maxNewTokens: 8, signal: controller.signal, onToken: (_, i) => void (i === 1 && controller.abort()) })
      .then(() => undefined, (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, code: (e as { code?: string }).code, tokens: ((e as { details?: { tokens?: number[] } }).details?.tokens ?? []).length }));
    await inWorker.release();
    const refused = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' })
      .then(() => undefined, (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, code: (e as { code?: string }).code, message: (e as Error).message }));
    const where = Object.fromEntries(presents.map((n) => [n, 'gpu-buffer' as const]));
    const inPage = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], worker: false, preferredOutputLocation: where });
    const local = await kiln.generate(inPage, { inputIds: prompt, maxNewTokens: 8 });
    const provider = inPage.executionProvider;
    await inPage.release();
    return { worker: worker.tokens, streamed, aborted, refused, local: local.tokens, provider };
  }, { bytes: Array.from(model), prompt, presents });
  assert.deepEqual(r.worker, want, `worker tokens (seed ${rng.seed})`);
  assert.deepEqual(r.streamed, want);
  assert.deepEqual(r.aborted, { isKilnError: true, code: 'ABORTED', tokens: 2 });
  assert.ok(r.refused, 'a worker session with gpu-buffer outputs is refused');
  assert.equal(r.refused.code, 'INVALID_ARGUMENT');
  assert.ok(r.refused.isKilnError);
  assert.match(r.refused.message, /worker: false/);
  assert.equal(r.provider, 'webgpu');
  assert.deepEqual(r.local, want, `in-page WebGPU tokens (seed ${rng.seed})`);
});
