// The bench server must make the page cross-origin isolated (so onnxruntime-web and Kiln get wasm
// threads) and must serve Kiln's pool worker where Kiln's sources look for it: without either, the
// 2-thread rows silently run on 1 thread (the pool fell back, as it did before this server served it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ViteDevServer } from 'vite';
import { startDevServer, THREAD_WORKER_URL } from '../../bench/runner/dev-server.ts';

let server: ViteDevServer;
let url: string;
before(async () => ({ server, url } = await startDevServer()));
after(() => server.close());

function assertIsolating(r: Response, what: string): void {
  assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', `${what}: COOP`);
  assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp', `${what}: COEP`);
}

test('the bench page is served with the cross-origin isolation headers', async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:/);
  const r = await fetch(`${url}/bench/index.html`);
  assert.equal(r.status, 200);
  assertIsolating(r, 'bench/index.html');
  assert.match(await r.text(), /page\/main\.ts/);
});

test("Kiln's pool worker is served beside its sources as JavaScript, isolated like the page", async () => {
  const r = await fetch(`${url}${THREAD_WORKER_URL}`);
  assert.equal(r.status, 200, `${THREAD_WORKER_URL}: HTTP ${r.status}`);
  assert.match(r.headers.get('content-type') ?? '', /javascript/);
  assertIsolating(r, THREAD_WORKER_URL);
  // The compiled source entry (thread-worker-browser.ts), which hands each message to the worker loop.
  assert.match(await r.text(), /runThreadWorker/);
});
