// `node --import tsx bench/runner/pool-probe.ts [query]`: runs bench/pool-probe/ in Debian's
// Chromium (cross-origin isolated dev server, as the bench) and prints where a split GEMM's time
// goes on Kiln's wasm pool: per call, 1 thread vs 2 with workers spinning 0/100/1000 us, and from
// the pool's trace the worker's wake, first claim and finish and the caller's, in us after the post.
import { loadavg } from 'node:os';
import { launchChromium } from '../../scripts/browser/chromium.ts';
import type { ProbeRow } from '../pool-probe/probe.ts';
import { startDevServer } from './dev-server.ts';

const query = process.argv[2] ?? '';
const { server, url } = await startDevServer();
const browser = await launchChromium();
const load0 = loadavg()[0]!.toFixed(1);
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`${url}/bench/pool-probe/index.html?${query}`);
  const rows = (await page.evaluate(() => (globalThis as { poolProbe?: Promise<unknown> }).poolProbe)) as ProbeRow[] | { error: string };
  if (!Array.isArray(rows)) throw new Error(rows.error);
  const f = (x: number | undefined, d = 0): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
  console.log(`load average (1 min) ${load0} -> ${loadavg()[0]!.toFixed(1)}; us after the post, medians over traced calls`);
  console.log('| GEMM MxKxN | gap us | variant | ms/call | worker wake | worker 1st claim | worker end | caller end | done | parts caller/worker | us/part caller/worker | worker took none | caller wait p50/p90 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.shape} | ${r.gapUs} | ${r.variant} | ${f(r.ms, 3)} | ${f(r.wakeUs)} | ${f(r.firstClaimUs)} | ${f(r.workerEndUs)} | ${f(r.callerEndUs)} | ${f(r.doneUs)} | ${f(r.callerParts)}/${f(r.workerParts)} | ${f(r.callerPartUs)}/${f(r.workerPartUs)} | ${r.missed === undefined ? '—' : `${Math.round(r.missed * 100)}%`} | ${f(r.callerWaitUs)}/${f(r.callerWaitP90Us)} |`);
} finally {
  await browser.close();
  await server.close();
}
