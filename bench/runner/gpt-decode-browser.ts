// `node --import tsx bench/runner/gpt-decode-browser.ts [32,128,512] [rounds] [runtimes]`: drives
// bench/gpt-decode.html in Debian's Chromium (SwiftShader WebGPU) and writes
// bench/results/<date>-chromium-gpt-decode.{json,md}: tokens/s of the trained sonnet GPT, prefill and
// decode apart, Kiln WebGPU and wasm beside onnxruntime-web WebGPU and wasm (1 thread each).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { launchChromium } from '../../scripts/browser/chromium.ts';
import type { GptRow } from '../page/gpt-decode.ts';
import { startDevServer } from './dev-server.ts';

const [lengths = '32,128,512', rounds = '2', runtimes] = process.argv.slice(2);
const { server, url } = await startDevServer();
const browser = await launchChromium();
const load0 = loadavg()[0]!;
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  const q = new URLSearchParams({ lengths, rounds, ...(runtimes ? { runtimes } : {}) });
  await page.goto(`${url}/bench/gpt-decode.html?${q.toString()}`);
  let shown = 0;
  const tail = setInterval(() => {
    void page.textContent('#log').then((t) => {
      const lines = (t ?? '').trim().split('\n');
      for (const l of lines.slice(shown)) if (l) console.log(l);
      shown = lines.length;
    }, () => undefined);
  }, 2000);
  const result = (await page.evaluate(() => (globalThis as { kilnGptBench?: Promise<unknown> }).kilnGptBench)) as { rows: GptRow[]; userAgent: string; adapter: string; error?: string };
  clearInterval(tail);
  if (result.error) throw new Error(`the page failed: ${result.error}`);
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;
  const md = [
    `# GPT prefill and decode in Chromium, ${date}`,
    '',
    `${result.userAgent}; WebGPU adapter: ${result.adapter}; ${machine}; ${rounds} round(s), runtimes interleaved, medians.`,
    'Model: demo/models/sonnets-gpt-int4 (.kiln for Kiln, the QDQ .onnx for onnxruntime-web). Prefill: one run over an L-token prompt.',
    'Decode: 4-token prompt, tokens up to position L, the first decode step left out.',
    '',
    '| L | runtime | prefill tok/s | decode tok/s | ms/token first quarter | last quarter | note |',
    '|---|---|---|---|---|---|---|',
    ...result.rows.map((r) => `| ${r.L} | ${r.runtime} | ${r.prefillTokPerS.toFixed(0)} | ${r.decodeTokPerS.toFixed(1)} | ${r.firstQuarterMs.toFixed(2)} | ${r.lastQuarterMs.toFixed(2)} | ${r.note} |`),
  ].join('\n');
  console.log(md);
  const base = `bench/results/${date}-chromium-gpt-decode`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine, userAgent: result.userAgent, adapter: result.adapter, rounds: Number(rounds), rows: result.rows }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${md}\n`);
} finally {
  await browser.close();
  await server.close();
}
