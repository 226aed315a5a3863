// `npm start`: serves the demo (http://localhost:5173, or $PORT) with Vite.
import { createServer } from 'vite';
import { repoRoot } from '../test/helpers/paths.ts';

const port = Number(process.env.PORT ?? 5173);
const server = await createServer({
  root: repoRoot,
  configFile: false,
  server: { host: 'localhost', port, strictPort: true, open: false, headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  optimizeDeps: { include: ['protobufjs/light.js'] },
});
await server.listen();
console.log(`\nKiln demo: http://localhost:${port}/demo/\n(Ctrl+C to stop)`);
