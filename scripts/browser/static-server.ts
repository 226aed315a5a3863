// A small static file server for browser tests: the repo root, plus mounted folders (by default
// /conformance/ -> the shared ONNX conformance data). Cross-origin isolated (COOP/COEP), so pages
// get SharedArrayBuffer and WASM threads like a production deployment should.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { conformanceDir, repoRoot } from '../../test/helpers/paths.ts';

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
  /** exact paths answered by a function instead of a file (e.g. a generated JSON config) */
  routes?: Readonly<Record<string, () => { type: string; body: string }>>;
}

/** Maps a URL path to a file inside one of the served folders, or undefined (never escapes them). */
function resolvePath(pathname: string, root: string, mounts: readonly (readonly [string, string])[]): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const [prefix, dir] = mounts.find(([p]) => decoded.startsWith(p)) ?? ['/', root];
  const rel = normalize(decoded.slice(prefix.length));
  if (rel.startsWith('..') || rel.split(sep).includes('..')) return undefined;
  const file = join(dir, rel);
  return file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? file : undefined;
}

export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = options.root ?? repoRoot;
  const mounts = Object.entries({ '/conformance/': conformanceDir, ...options.mounts }).sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = options.routes?.[pathname];
    if (route) {
      const { type, body } = route();
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let file = resolvePath(pathname, root, mounts);
    let stat = file === undefined ? undefined : statSync(file, { throwIfNoEntry: false });
    if (file !== undefined && stat?.isDirectory()) {
      file = join(file, 'index.html');
      stat = statSync(file, { throwIfNoEntry: false });
    }
    if (file === undefined || !stat?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${pathname}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': stat.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
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
