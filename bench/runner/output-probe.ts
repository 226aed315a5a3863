// `node --import tsx bench/runner/output-probe.ts`: runs bench/output-probe/ in Debian's Chromium
// (the bench's cross-origin isolated dev server) and prints what a fresh output array costs a wasm
// run against a pre-allocated one (docs/decisions.md run-arguments).
import { loadavg } from 'node:os';
import { launchChromium } from '../../scripts/browser/chromium.ts';
import { startDevServer } from './dev-server.ts';

const { server, url } = await startDevServer();
const browser = await launchChromium();
const load0 = loadavg()[0]!.toFixed(1);
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`${url}/bench/output-probe/index.html`);
  const result = (await page.evaluate(() => (globalThis as { outputProbe?: Promise<unknown> }).outputProbe)) as Record<string, number> | { error: string };
  if ('error' in result) throw new Error(String(result.error));
  console.log(`load average (1 min) ${load0} -> ${loadavg()[0]!.toFixed(1)}; medians`);
  for (const [k, v] of Object.entries(result)) if (!k.startsWith('(')) console.log(`| ${k} | ${v.toFixed(3)} |`);
} finally {
  await browser.close();
  await server.close();
}
