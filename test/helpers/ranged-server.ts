// An http server on 127.0.0.1 for streamed-loading tests: each file sent in pieces at a fixed rate,
// with single-range requests (`Range: bytes=a-b`, 206 + Content-Range) answered or ignored per file,
// and an ETag per file. A file can answer Range requests from other bytes (and another ETag) than its
// full download: a file that changed between the two requests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  readonly bytes: Uint8Array;
  /** answer Range requests (and say Accept-Ranges: bytes); false: every request gets the whole file (200) */
  readonly ranges: boolean;
  readonly etag?: string;
  /** what Range requests read, and its ETag (default: the same file) */
  readonly changedTo?: { readonly bytes: Uint8Array; readonly etag?: string };
  /**
   * a full download pauses once this many bytes are sent, while a gate armed for the path is closed
   * (a test opens it on what it waits for, which must not need the held bytes)
   */
  readonly holdAt?: number;
}

export interface RangedServer {
  readonly url: string;
  /** Range headers received, per path */
  readonly rangeRequests: Map<string, string[]>;
  /** arms a gate for the next full download of `path` (see holdAt); call the function returned to open it */
  gate(path: string): () => void;
  close(): Promise<void>;
}

/** `rate` in bytes/s for full downloads (Range answers are sent at once: they are small) */
export async function startRangedServer(files: Record<string, ServedFile>, rate: number): Promise<RangedServer> {
  const rangeRequests = new Map<string, string[]>();
  const gates = new Map<string, Promise<void>>();
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    const file = files[path];
    if (!file) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (req.headers.range) rangeRequests.set(path, [...(rangeRequests.get(path) ?? []), req.headers.range]);
    if (file.ranges && range) {
      const source = file.changedTo ?? file;
      const [start, end] = [Number(range[1]), Math.min(Number(range[2]), source.bytes.length - 1)];
      if (start > end) return void res.writeHead(416, { 'Content-Range': `bytes */${source.bytes.length}` }).end();
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${end}/${source.bytes.length}`, 'Content-Length': end - start + 1,
        ...(source.etag ? { ETag: source.etag } : {}),
      });
      return void res.end(source.bytes.subarray(start, end + 1));
    }
    res.writeHead(200, { 'Content-Length': file.bytes.length, ...(file.ranges ? { 'Accept-Ranges': 'bytes' } : {}), ...(file.etag ? { ETag: file.etag } : {}) });
    const piece = 16 << 10;
    let started = performance.now();
    let at = 0;
    const gate = gates.get(path);
    gates.delete(path);
    let held = false;
    const tick = (): void => {
      if (res.destroyed) return;
      if (at >= file.bytes.length) return void res.end();
      if (gate && !held && at >= (file.holdAt ?? Infinity)) {
        held = true;
        return void gate.then(() => {
          started = performance.now() - (at / rate) * 1000; // the pace resumes from here
          tick();
        });
      }
      res.write(file.bytes.subarray(at, at + piece));
      at += piece;
      setTimeout(tick, Math.max(0, started + (at / rate) * 1000 - performance.now()));
    };
    tick();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rangeRequests,
    gate(path) {
      let open = (): void => undefined;
      gates.set(path, new Promise<void>((resolve) => (open = resolve)));
      return () => open();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
