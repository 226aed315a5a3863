// A bench probe page (bench/<name>/index.html) run headless in Debian's Chromium on the bench's
// cross-origin isolated dev server: opens it, awaits the promise the page leaves on `globalThis[key]`,
// closes everything, and returns what the page resolved with (pool-probe.ts, output-probe.ts).
import { launchChromium } from '../../scripts/browser/chromium.ts';
import { startDevServer } from './dev-server.ts';

export async function runProbePage(path: string, key: string): Promise<unknown> {
  const { server, url } = await startDevServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    await page.goto(`${url}${path}`);
    return await page.evaluate((k) => (globalThis as Record<string, unknown>)[k], key);
  } finally {
    await browser.close();
    await server.close();
  }
}
