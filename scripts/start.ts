// `npm start`: the demo as a visitor gets it. Makes sure the model bundles exist (trains missing ones),
// builds the PWA when its sources changed (a production build: the service worker needs it), starts
// the telemetry collector in this process and serves the demo. Ports: PORT (5173), COLLECTOR_PORT (4318).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCollector } from '../collector/index.ts';
import { KilnError } from '../core/errors.ts';
import { ensureDemoBuild } from '../demo/scripts/build-demo.ts';
import { ensureDemoModels } from '../demo/scripts/demo-models.ts';
import { demoRoot } from '../demo/vite.config.ts';
import { startStaticServer } from './browser/static-server.ts';
import { repoRoot } from '../test/helpers/paths.ts';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`npm start: ${name}=${raw} is not a TCP port (1-65535)`);
    process.exit(2);
  }
  return n;
}

const demoPort = port('PORT', 5173);
const collectorPort = port('COLLECTOR_PORT', 4318);
const apiKey = process.env.KILN_API_KEY ?? 'kiln-demo-write-key';
// KILN_DEMO_MODELS: another folder of bundles + manifest.json (e.g. models trained with other settings)
const modelsDir = process.env.KILN_DEMO_MODELS ?? join(demoRoot, 'models');
const outDir = process.env.KILN_DEMO_MODELS ? join(demoRoot, 'dist', '.custom-models') : join(demoRoot, 'dist');
const log = (line: string): void => console.log(`[start] ${line}`);

let models: ReturnType<typeof ensureDemoModels>;
try {
  models = ensureDemoModels(modelsDir, log);
} catch (e) {
  if (!(e instanceof KilnError)) throw e;
  console.error(`npm start: ${e.message}`);
  process.exit(1);
}
if (models.changed.length > 0) log(`model bundles changed, new versions in demo/models/manifest.json: ${models.changed.join(', ')}`);
log(await ensureDemoBuild({ outDir, modelsDir }));

mkdirSync(join(repoRoot, '.cache'), { recursive: true });
const collector = await startCollector({ port: collectorPort, host: 'localhost', dbPath: join(repoRoot, '.cache', 'collector.sqlite'), apiKeys: [apiKey] });
const collectorUrl = `http://localhost:${collector.port}`;
const server = await startStaticServer({
  root: outDir,
  host: 'localhost',
  port: demoPort,
  // Telemetry settings for the page; it keeps the last answer for offline use.
  routes: { '/demo-config.json': () => ({ type: 'application/json', body: JSON.stringify({ telemetryEndpoint: `${collectorUrl}/v1/metrics`, apiKey, dashboardUrl: `${collectorUrl}/` }) }) },
});

console.log(`\n  Kiln demo:       http://localhost:${demoPort}/\n  Collector:       ${collectorUrl}/  (dashboard; OTLP/HTTP at ${collectorUrl}/v1/metrics)\n\n  Ctrl+C to stop\n`);
const stop = async (): Promise<void> => {
  await Promise.allSettled([server.close(), collector.close()]);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
