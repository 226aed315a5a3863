// `npm run bench [-- --quick] [-- --node] [-- --profile] [-- --out DIR] [-- --workloads a,b] [-- --runtimes x,y]`:
// runs bench/index.html in Chromium (or the Node path through the `webgpu` package with --node) and
// writes JSON + Markdown to bench/results/ (or DIR). Prints where it wrote the JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { renderMarkdown, type BenchReport } from '../bench/runner/report.ts';
import { repoRoot } from '../test/helpers/paths.ts';
import { ensureBuild } from './browser/ensure-build.ts';

class CliUsageError extends Error {}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new CliUsageError(`${name} needs a value`);
  return v;
}

const known = new Set(['--quick', '--node', '--profile', '--out', '--workloads', '--runtimes']);
const unknown = process.argv.slice(2).filter((a, i, all) => a.startsWith('--') && !known.has(a) && !(i > 0 && ['--out', '--workloads', '--runtimes'].includes(all[i - 1]!)));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')}; usage: npm run bench -- [--quick] [--node] [--profile] [--out DIR] [--workloads a,b] [--runtimes kiln-webgpu,ort-wasm,...]`);
  process.exit(2);
}
const quick = process.argv.includes('--quick');
const node = process.argv.includes('--node');
const profile = process.argv.includes('--profile');
const outDir = resolve(option('--out') ?? join(repoRoot, 'bench/results'));
const workloads = option('--workloads');
const runtimes = option('--runtimes');

// Kiln's download sizes are read from dist/ (bench/runner/download-sizes.ts): build it when it is missing
// or stale, under the build lock, so the bench never reads a dist/ that a test is rewriting.
console.log(`[bench] ${await ensureBuild()}`);
const loadStart = loadavg()[0]!;
const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
const notes = [`${cpus().length}-core machine shared with other engineers' jobs while this ran: absolute times are noisy; peers were interleaved so ratios are fairer than absolutes`];
if (profile) {
  // Per-dispatch timings of the WebGPU runtimes (Chromium only): where whole-model time goes.
  const { runBrowserBench } = await import('../bench/runner/browser-bench.ts');
  const { renderProfile } = await import('../bench/runner/profile-report.ts');
  const r = await runBrowserBench({ quick, profile: true, workloads, runtimes });
  const p = { date: new Date().toISOString(), machine, browser: r.browser, adapter: r.adapter, profiles: r.profiles ?? [] };
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${p.date.slice(0, 10)}-profile-chromium-${(runtimes ?? 'webgpu-runtimes').replace(/,/g, '+')}.md`);
  writeFileSync(file, renderProfile(p));
  writeFileSync(file.replace(/\.md$/, '.json'), `${JSON.stringify(p, null, 1)}\n`);
  console.log(`\n${renderProfile(p)}\nwrote ${file}`);
  process.exit(0);
}
let page: Omit<BenchReport, 'machine' | 'date' | 'loadAverage' | 'notes'>;
if (node) {
  const { runNodeBench } = await import('../bench/runner/node-bench.ts');
  page = await runNodeBench({ quick, workloads: workloads?.split(','), runtimes: runtimes?.split(',') });
} else {
  const { runBrowserBench } = await import('../bench/runner/browser-bench.ts');
  page = await runBrowserBench({ quick, workloads, runtimes });
}
const report: BenchReport = { machine, date: new Date().toISOString(), ...page, loadAverage: { start: loadStart, end: loadavg()[0]! }, notes };
mkdirSync(outDir, { recursive: true });
const adapterTag = /swiftshader/i.test(report.adapter) ? 'swiftshader' : report.adapter.split(' ')[0]?.toLowerCase() || 'gpu';
// A run over a subset never overwrites the full run of the day.
const subset = workloads || runtimes ? `-subset${workloads ? `-${workloads.split(',')[0]}` : ''}` : '';
const stem = join(outDir, `${quick ? 'quick-' : ''}${report.date.slice(0, 10)}-${node ? 'node' : 'chromium'}-${adapterTag}${subset}`);
writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(`${stem}.md`, renderMarkdown(report));
console.log(`\n${renderMarkdown(report)}\nwrote ${stem}.json`);
console.log(`wrote ${stem}.md`);
