import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { repoRoot } from '../../test/helpers/paths.ts';
import { runtimeDownloadSizes, trainedModelFiles } from './download-sizes.ts';

export const THREAD_WORKER_URL = '/runtime/backends/wasm/kiln.thread-worker.mjs';
const THREAD_WORKER_SOURCE = '/runtime/backends/wasm/thread-worker-browser.ts';

/** What the page asks the server: runtime download sizes and the trained models present. */
function benchEndpoints(): Plugin {
  const send = (res: ServerResponse, body: unknown): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  };
  return {
    name: 'kiln-bench-endpoints',
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        try {
          // Kiln's wasm pool starts its workers from kiln.thread-worker.mjs beside the module that
          // spawns them: the built file beside dist/kiln.mjs, but here the page runs Kiln's sources,
          // where no such file exists (the pool failed to start and Kiln ran 1 thread). Serve the
          // worker's source entry there, compiled by Vite like the rest of the page.
          if (req.url?.split('?')[0] === THREAD_WORKER_URL) {
            req.url = THREAD_WORKER_SOURCE;
            next();
          } else if (req.url === '/__bench/sizes.json') send(res, runtimeDownloadSizes());
          else if (req.url === '/__bench/trained-models.json') send(res, trainedModelFiles());
          else next();
        } catch (e) {
          // A file that vanished mid-read: this request fails, the dev server stays up.
          res.statusCode = 500;
          send(res, { error: e instanceof Error ? e.message : String(e) });
        }
      });
    },
  };
}

/** Vite dev server over the repo with cross-origin isolation, so onnxruntime-web may use threads. */
export async function startDevServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: repoRoot,
    configFile: false,
    logLevel: 'warn',
    plugins: [benchEndpoints()],
    server: {
      host: '127.0.0.1',
      port: 5190,
      strictPort: false,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      // Vite's own defaults (it also checks Host against DNS rebinding), plus the collector's
      // database that `npm start` keeps in .cache/ under this root.
      fs: { deny: ['.env', '.env.*', '*.{crt,pem,key,p12,pfx,cer,der}', '.npmrc', '.yarnrc.yml', '**/.git/**', '**/.cache/**', '**/*.sqlite*'] },
      // A benchmark must not reload when a source file changes under it.
      hmr: false,
      watch: { ignored: ['**/*'] },
    },
    // Pre-bundled at start: a dependency discovered mid-run would make Vite reload the page.
    optimizeDeps: { entries: ['bench/index.html'], include: ['protobufjs/light.js', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 5190;
  return { server, url: `http://127.0.0.1:${port}` };
}
