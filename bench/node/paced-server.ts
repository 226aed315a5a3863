// The cold-start benches' "network": files served over http on 127.0.0.1 at a fixed rate.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

/**
 * Serves files at `rate` bytes/s in 64 KiB pieces, each sent on a schedule from the request's start
 * (a late piece is caught up, as a network's buffers would). The server runs in a worker thread so
 * the session's main-thread work (hashing, uploads) does not slow the "network"; IN_PROCESS=1 puts it
 * on the main thread as before (what the first measurements used). Under /r/ the same files also
 * answer single Range requests (206, sent at once: the early ONNX path asks for the last 64 KB and
 * 4 KB per weight) and say Accept-Ranges and an ETag; elsewhere a Range header is ignored (200).
 */
const SERVER_SOURCE = `
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { files, rate } = workerData;
const server = createServer((req, res) => {
  const url = req.url ?? '';
  const ranged = url.startsWith('/r/');
  const body = files[ranged ? url.slice(2) : url];
  if (!body) return void res.writeHead(404).end();
  const range = ranged && /^bytes=(\\d+)-(\\d+)$/.exec(req.headers.range ?? '');
  if (range) {
    const [a, b] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
    res.writeHead(206, { 'Content-Range': 'bytes ' + a + '-' + b + '/' + body.length, 'Content-Length': b - a + 1, ETag: '"' + body.length + '"' });
    return void res.end(body.subarray(a, b + 1));
  }
  res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream', ...(ranged ? { 'Accept-Ranges': 'bytes', ETag: '"' + body.length + '"' } : {}) });
  const piece = 64 << 10;
  const started = performance.now();
  let at = 0;
  const tick = () => {
    if (at >= body.length) return void res.end();
    res.write(body.subarray(at, at + piece));
    at += piece;
    setTimeout(tick, Math.max(0, started + (at / rate) * 1000 - performance.now()));
  };
  tick();
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;
export async function throttledServer(files: Record<string, Uint8Array>, rate: number): Promise<{ url: string; close: () => void }> {
  if (process.env.IN_PROCESS === '1') {
    const server = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' });
      let at = 0;
      const piece = 64 << 10;
      const tick = (): void => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, at + piece));
        at += piece;
        setTimeout(tick, (piece / rate) * 1000);
      };
      tick();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  }
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { files, rate } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, close: () => worker.postMessage('close') };
}
