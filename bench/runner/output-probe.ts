// `node --import tsx bench/runner/output-probe.ts`: runs bench/output-probe/ in Debian's Chromium
// (the bench's cross-origin isolated dev server) and prints what a fresh output array costs a wasm
// run against a pre-allocated one (docs/decisions.md run-arguments).
import { loadavg } from 'node:os';
import { runProbePage } from './probe-page.ts';

const load0 = loadavg()[0]!.toFixed(1);
const result = (await runProbePage('/bench/output-probe/index.html', 'outputProbe')) as Record<string, number> | { error: string };
if ('error' in result) throw new Error(String(result.error));
console.log(`load average (1 min) ${load0} -> ${loadavg()[0]!.toFixed(1)}; medians`);
for (const [k, v] of Object.entries(result)) if (!k.startsWith('(')) console.log(`| ${k} | ${v.toFixed(3)} |`);
