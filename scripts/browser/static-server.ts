// A small static file server for browser tests: the repo root, plus mounted folders (by default
// /conformance/ -> the shared ONNX conformance data). Cross-origin isolated (COOP/COEP), so pages
// get SharedArrayBuffer and WASM threads like a production deployment should. `npm start` serves
// the demo with it, in the same process as the collector: no request may throw out of the handler
// (each is answered 400/404/405/414/500), and served-file.ts decides what may be read at all.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve } from 'node:path';
import { conformanceDir, repoRoot } from '../../test/helpers/paths.ts';
import { lookupFile, MAX_URL_LENGTH, type Mounts } from './served-file.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  readonly url: string;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** folder served at "/" (default: the repo root) */
  root?: string;
  /** URL prefix ("/name/") -> folder; the longest matching prefix wins */
  mounts?: Readonly<Record<string, string>>;
  /** default 0: a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** default true: COOP/COEP headers, so pages are cross-origin isolated (SharedArrayBuffer, wasm threads) */
  isolated?: boolean;
  /** extra headers on every response (e.g. a Content-Security-Policy) */
  headers?: Readonly<Record<string, string>>;
  /** exact paths answered by a function instead of a file (e.g. a generated JSON config) */
  routes?: Readonly<Record<string, () => { type: string; body: string }>>;
}

export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = resolve(options.root ?? repoRoot);
  const mounts: Mounts = [
    ...Object.entries({ '/conformance/': conformanceDir, ...options.mounts })
      .map(([p, d]) => [p, resolve(d)] as const)
      .sort((a, b) => b[0].length - a[0].length),
    ['/', root],
  ];
  const plain = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (options.isolated !== false) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const target = req.url ?? '/';
    if (target.length > MAX_URL_LENGTH) return plain(res, 414, `the request target is longer than ${MAX_URL_LENGTH} characters`);
    let pathname: string;
    try {
      pathname = new URL(target, 'http://localhost').pathname;
    } catch {
      return plain(res, 400, 'not a valid request target');
    }
    const route = options.routes?.[pathname];
    if (route) {
      const { type, body } = route();
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const found = lookupFile(pathname, mounts);
    if ('status' in found) return plain(res, found.status, found.status === 404 ? `not found: ${pathname.slice(0, 200)}` : found.why);
    res.writeHead(200, { 'Content-Type': TYPES[extname(found.file)] ?? 'application/octet-stream', 'Content-Length': found.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(found.file).on('error', () => res.destroy()).pipe(res);
  };
  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // A bug of ours (or a route that threw): this request fails, the server and the process stay.
      console.error(`static server: ${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)}: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    }
  });
  server.on('clientError', (_e, socket) => socket.destroy()); // malformed HTTP: drop that connection only
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
