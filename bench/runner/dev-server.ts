import { createServer, type ViteDevServer } from 'vite';
import { repoRoot } from '../../test/helpers/paths.ts';

/** Vite dev server over the repo with cross-origin isolation, so onnxruntime-web may use threads. */
export async function startDevServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: repoRoot,
    configFile: false,
    logLevel: 'warn',
    server: {
      host: '127.0.0.1',
      port: 5190,
      strictPort: false,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      // A benchmark must not reload when a source file changes under it.
      hmr: false,
      watch: { ignored: ['**/*'] },
    },
    optimizeDeps: { include: ['protobufjs/light.js'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 5190;
  return { server, url: `http://127.0.0.1:${port}` };
}
