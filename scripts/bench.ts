// `npm run bench [-- --quick]`: runs bench/index.html in Chromium and writes JSON + Markdown to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from './browser/chromium.ts';
import { startDevServer } from '../bench/runner/dev-server.ts';
import { renderMarkdown, type BenchReport } from '../bench/runner/report.ts';
import { repoRoot } from '../test/helpers/paths.ts';

const quick = process.argv.includes('--quick');
const { server, url } = await startDevServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  await page.goto(`${url}/bench/index.html${quick ? '?quick' : ''}`);
  const logTail = setInterval(() => void page.textContent('#log').then((t) => process.stdout.write(`\r${(t ?? '').trim().split('\n').pop()?.slice(0, 100) ?? ''}     `)), 5000);
  const result = (await page.evaluate(() => (globalThis as { kilnBench?: Promise<unknown> }).kilnBench, undefined, )) as Omit<BenchReport, 'machine' | 'date'> & { error?: string };
  clearInterval(logTail);
  if (result.error) throw new Error(result.error);
  const report: BenchReport = { machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`, date: new Date().toISOString(), ...result };
  const dir = join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `${quick ? 'quick-' : ''}${report.date.slice(0, 10)}-chromium-swiftshader`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${stem}.md`, renderMarkdown(report));
  console.log(`\n${renderMarkdown(report)}\nwrote ${stem}.json and ${stem}.md`);
} finally {
  await browser.close();
  await server.close();
}
