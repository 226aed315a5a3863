// A static server for the delivery tests that records every request path, so a test can tell that
// a load made no network request (Cache API hit). Options: CORS on or off (a second server without
// CORS headers is the "CORS failure" case), and paths streamed slowly (to abort a load midway).
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface CountingServer {
  readonly url: string;
  /** request paths in arrival order */
  readonly requests: string[];
  count(pathname: string | RegExp): number;
  /** resolves once a slow response for this path is closed by the client before its last byte */
  cutShort(pathname: string): Promise<void>;
  /**
   * A slow response asked with `?gated` sends its first piece, then waits for this (once per
   * pathname; calling it before the request is fine): a test that opens the gate only after the page
   * saw that piece knows the page saw the body in parts, whatever the timing.
   */
  openGate(pathname: string): void;
  close(): Promise<void>;
}

export interface CountingServerOptions {
  /** URL prefix ("/name/") -> folder */
  mounts: Readonly<Record<string, string>>;
  /** Access-Control-Allow-Origin: * and Cross-Origin-Resource-Policy: cross-origin */
  cors: boolean;
  /** paths sent in 64 KiB pieces, one every 50 ms */
  slow?: RegExp;
}

export async function startCountingServer(options: CountingServerOptions): Promise<CountingServer> {
  const mounts = Object.entries(options.mounts).sort((a, b) => b[0].length - a[0].length);
  const requests: string[] = [];
  const cut: string[] = [];
  const cutWaiters: { pathname: string; resolve: () => void }[] = [];
  const gates = new Map<string, { opened: boolean; waiting: (() => void)[] }>();
  const gateOf = (pathname: string): { opened: boolean; waiting: (() => void)[] } => {
    let g = gates.get(pathname);
    if (!g) gates.set(pathname, (g = { opened: false, waiting: [] }));
    return g;
  };
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(pathname);
    // Cross-origin isolated like a production page (COOP/COEP); never HTTP-cached, so every load
    // that is not a Cache API hit shows up in `requests`.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', options.cors ? 'cross-origin' : 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (options.cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const mount = mounts.find(([prefix]) => pathname.startsWith(prefix));
    const rel = mount ? normalize(pathname.slice(mount[0].length)) : '..';
    const file = mount && !rel.split(sep).includes('..') ? join(mount[1], rel) : undefined;
    const stat = file ? statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!file || !stat?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': stat.size });
    if (!options.slow?.test(pathname)) {
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
    const gate = new URL(req.url ?? '/', 'http://localhost').searchParams.has('gated') ? gateOf(pathname) : undefined;
    let pieces = 0;
    stream.on('data', (chunk) => {
      stream.pause();
      res.write(chunk);
      const next = (): void => void setTimeout(() => stream.resume(), 50);
      if (++pieces === 1 && gate && !gate.opened) gate.waiting.push(next);
      else next();
    });
    stream.on('end', () => res.end());
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      stream.destroy();
      if (res.writableFinished) return;
      cut.push(pathname);
      for (const w of cutWaiters.filter((x) => x.pathname === pathname)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (p) => requests.filter((r) => (typeof p === 'string' ? r === p : p.test(r))).length,
    cutShort: (pathname) => (cut.includes(pathname) ? Promise.resolve() : new Promise((resolve) => cutWaiters.push({ pathname, resolve }))),
    openGate: (pathname) => {
      const g = gateOf(pathname);
      g.opened = true;
      for (const go of g.waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
