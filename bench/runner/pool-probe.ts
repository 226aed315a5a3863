// `node --import tsx bench/runner/pool-probe.ts [query]`: runs bench/pool-probe/ in Debian's
// Chromium (cross-origin isolated dev server, as the bench) and prints where a split GEMM's time
// goes on Kiln's wasm pool: per call, 1 thread vs 2 with workers spinning 0/100/1000 us, and from
// the pool's trace the worker's wake, first claim and finish and the caller's, in us after the post.
import { loadavg } from 'node:os';
import type { ProbeRow } from '../pool-probe/probe.ts';
import { runProbePage } from './probe-page.ts';

const query = process.argv[2] ?? '';
const load0 = loadavg()[0]!.toFixed(1);
const rows = (await runProbePage(`/bench/pool-probe/index.html?${query}`, 'poolProbe')) as ProbeRow[] | { error: string };
if (!Array.isArray(rows)) throw new Error(rows.error);
const f = (x: number | undefined, d = 0): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
console.log(`load average (1 min) ${load0} -> ${loadavg()[0]!.toFixed(1)}; us after the post, medians over traced calls`);
console.log('| GEMM MxKxN | gap us | variant | ms/call | worker wake | worker 1st claim | worker end | caller end | done | parts caller/worker | us/part caller/worker | worker took none | caller wait p50/p90 |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.shape} | ${r.gapUs} | ${r.variant} | ${f(r.ms, 3)} | ${f(r.wakeUs)} | ${f(r.firstClaimUs)} | ${f(r.workerEndUs)} | ${f(r.callerEndUs)} | ${f(r.doneUs)} | ${f(r.callerParts)}/${f(r.workerParts)} | ${f(r.callerPartUs)}/${f(r.workerPartUs)} | ${r.missed === undefined ? '—' : `${Math.round(r.missed * 100)}%`} | ${f(r.callerWaitUs)}/${f(r.callerWaitP90Us)} |`);
