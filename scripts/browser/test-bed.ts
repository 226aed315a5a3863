// What every browser test file needs: an up-to-date dist/, the static server and Debian's Chromium.
// Call close() from after(): it always closes the browser and the server, even after failures.
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from './chromium.ts';
import { ensureBuild } from './ensure-build.ts';
import { startStaticServer, type StaticServer, type StaticServerOptions } from './static-server.ts';

export interface TestBed {
  readonly browser: Browser;
  readonly server: StaticServer;
  /** the server's origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** a page at `path` whose errors are collected into pageErrors */
  open(path: string): Promise<Page>;
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** `server`: how the static server answers (cross-origin isolation, extra headers such as a CSP). */
export async function openTestBed(mounts: Readonly<Record<string, string>> = {}, server: Pick<StaticServerOptions, 'isolated' | 'headers'> = {}): Promise<TestBed> {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run \`node scripts/setup.mjs\` (apt-get install chromium) or set CHROMIUM_PATH`);
  console.log(`# ${await ensureBuild()}`);
  return openBed(await startStaticServer({ ...server, mounts }));
}

async function openBed(server: StaticServer): Promise<TestBed> {
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
  } catch (e) {
    await server.close();
    throw e;
  }
  const pageErrors: string[] = [];
  const b = browser;
  return {
    browser: b,
    server,
    url: server.url,
    pageErrors,
    async open(path) {
      const page = await b.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${path}: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && pageErrors.push(`${path}: console.error: ${m.text()}`));
      await page.goto(`${server.url}${path}`);
      return page;
    },
    async close() {
      await b.close().catch(() => undefined);
      await server.close();
    },
  };
}
