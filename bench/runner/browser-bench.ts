// Drives bench/index.html in Debian's Chromium and returns what the page measured.
import { launchChromium } from '../../scripts/browser/chromium.ts';
import { ensureBuild, staleReason } from '../../scripts/browser/ensure-build.ts';
import type { ProfileResult } from '../page/profile-run.ts';
import type { BenchReport } from './report.ts';
import { startDevServer } from './dev-server.ts';

type PageReport = Omit<BenchReport, 'machine' | 'date' | 'loadAverage' | 'notes'>;

export async function runBrowserBench(o: { quick: boolean; profile?: boolean; workloads?: string | undefined; runtimes?: string | undefined }): Promise<PageReport & { profiles?: ProfileResult[] }> {
  // Kiln's download size is measured on dist/ (the files a page loads); build it when missing.
  if (staleReason()?.endsWith('is missing')) await ensureBuild();
  const { server, url } = await startDevServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    const q = new URLSearchParams();
    if (o.quick) q.set('quick', '');
    if (o.profile) q.set('profile', '');
    if (o.workloads) q.set('workloads', o.workloads);
    if (o.runtimes) q.set('runtimes', o.runtimes);
    await page.goto(`${url}/bench/index.html?${q.toString()}`);
    let shown = 0;
    const tail = setInterval(() => {
      void page.textContent('#log').then((t) => {
        const lines = (t ?? '').trim().split('\n');
        for (const l of lines.slice(shown)) console.log(l);
        shown = lines.length;
      }, () => undefined);
    }, 2000);
    try {
      const result = (await page.evaluate(() => (globalThis as { kilnBench?: Promise<unknown> }).kilnBench)) as PageReport & { profiles?: ProfileResult[]; error?: string };
      if (result.error) throw new Error(`the bench page failed: ${result.error}`);
      return result;
    } finally {
      clearInterval(tail);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
