// The CPU table issue 11 asks for: every workload x {Kiln wasm at its default threads and at 1,
// Kiln js, onnxruntime-web wasm at its threads and at 1, TF.js wasm}, warm p50 in ms, with Kiln
// wasm's speed-up over onnxruntime-web at equal thread counts and their geometric means.
import type { BenchResult } from '../page/measure.ts';
import type { RuntimeName } from '../page/runtimes.ts';
import type { WorkerCensus } from '../page/worker-census.ts';

const COLUMNS: readonly RuntimeName[] = ['kiln-wasm', 'kiln-wasm-1t', 'kiln-js', 'ort-wasm', 'ort-wasm-1t', 'tfjs-wasm'];

function p50(results: readonly BenchResult[], workload: string, rt: RuntimeName): number | undefined {
  const r = results.find((x) => x.workload === workload && x.runtime === rt && x.status === 'ok');
  return r?.warmP50Ms ?? undefined;
}

/** The thread counts a runtime's rows ran on, from their notes ("wasm (SIMD128, 2 threads)", "2 thread(s)"). */
function threadCounts(results: readonly BenchResult[], rt: RuntimeName): string[] {
  const notes = results.filter((x) => x.runtime === rt && x.status === 'ok').map((x) => /(\d+) thread/.exec(x.note)?.[1]);
  return [...new Set(notes.filter((n) => n !== undefined))];
}

function threadsOf(results: readonly BenchResult[], rt: RuntimeName): string {
  const distinct = threadCounts(results, rt);
  return distinct.length > 0 ? `${distinct.join('/')}t` : '';
}

/** What the page saw of threads: whether it was cross-origin isolated and the Workers each runtime started. */
export interface ThreadEvidence {
  readonly crossOriginIsolated: boolean;
  readonly workers?: WorkerCensus | undefined;
}

/** One line per threaded runtime: asked threads, Workers it started, and whether it ran threaded. */
function threadCheck(results: readonly BenchResult[], columns: readonly RuntimeName[], e: ThreadEvidence): string[] {
  const census = e.workers;
  if (!census) return [];
  const lines = ['', `Threads, checked in the page: cross-origin isolated (SharedArrayBuffer): ${e.crossOriginIsolated}.`, ''];
  for (const rt of columns) {
    const counts = threadCounts(results, rt).map(Number);
    const started = Object.entries(census[rt] ?? {});
    const total = started.reduce((a, [, n]) => a + n, 0);
    const named = started.length ? started.map(([name, n]) => `${n} '${name || 'unnamed'}'`).join(', ') : 'none';
    const most = Math.max(0, ...counts);
    // A threaded row without a Worker of its own ran on the calling thread only, whatever it was asked.
    const verdict = most > 1 ? (total > 0 ? 'threaded' : 'NOT threaded (no Worker started)') : 'single-threaded';
    lines.push(`- ${rt}: ${counts.length ? counts.join('/') : '?'} thread(s) in its notes; Workers started over the run: ${named}; ${verdict}`);
  }
  return lines;
}

export const geometricMean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length));

/**
 * What the second thread cost or saved per workload, beside the pool dispatches Kiln made per run: a
 * dispatch wakes the pool's worker, and where the cores are busy that wake-up waits for a free core.
 */
function threadGain(results: readonly BenchResult[]): string[] {
  const workloads = [...new Set(results.map((r) => r.workload))].filter((w) => results.some((r) => r.workload === w && r.runtime === 'kiln-wasm' && r.wakesPerRun !== undefined));
  if (workloads.length === 0) return [];
  const lines = ['', 'Second thread, per workload: p50 at 2 threads minus p50 at 1 thread (negative = the second thread helped), and the pool dispatches (Atomics.notify calls) per Kiln run.', '', '| workload | Kiln dispatches per run | Kiln 2t - 1t ms | per dispatch ms | ort 2t - 1t ms |', '|---|---|---|---|---|'];
  const diff = (w: string, a: RuntimeName, b: RuntimeName): number | undefined => {
    const x = p50(results, w, a);
    const y = p50(results, w, b);
    return x === undefined || y === undefined ? undefined : x - y;
  };
  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);
  for (const w of workloads) {
    const d = results.find((r) => r.workload === w && r.runtime === 'kiln-wasm')?.wakesPerRun ?? 0;
    const k = diff(w, 'kiln-wasm', 'kiln-wasm-1t');
    lines.push(`| ${w} | ${d.toFixed(1)} | ${ms(k)} | ${k !== undefined && d > 0 ? ms(k / d) : '—'} | ${ms(diff(w, 'ort-wasm', 'ort-wasm-1t'))} |`);
  }
  return lines;
}

/** Markdown lines (starting with a blank line), or none when no CPU runtime ran. */
export function renderCpuTable(results: readonly BenchResult[], evidence?: ThreadEvidence): string[] {
  const columns = COLUMNS.filter((rt) => results.some((x) => x.runtime === rt && x.status === 'ok'));
  if (!columns.includes('kiln-wasm') && !columns.includes('kiln-wasm-1t')) return [];
  // In Node onnxruntime-web has one row, on 1 thread: that is the 1-thread peer there.
  const ort1 = columns.includes('ort-wasm-1t') ? 'ort-wasm-1t' : 'ort-wasm';
  const ortN = columns.includes('ort-wasm-1t') ? 'ort-wasm' : undefined;
  const head = columns.map((rt) => `${rt}${threadsOf(results, rt) ? ` (${threadsOf(results, rt)})` : ''}`);
  // The multi-thread pair is named by its thread count where both ran on the same one (the browser: 2 on 2 cores).
  const kT = threadsOf(results, 'kiln-wasm');
  const oT = threadsOf(results, 'ort-wasm');
  const nLabel = kT && kT === oT && /^\d+t$/.test(kT) ? `${kT.slice(0, -1)} threads` : `default threads (kiln-wasm ${kT || '?'}, ort-wasm ${oT || '?'}: not the same count)`;
  const lines = [
    '',
    '## CPU backends (warm p50 ms; lower is faster)',
    '',
    `Speed-up = onnxruntime-web p50 / Kiln wasm p50 at the same thread count (1 thread: kiln-wasm-1t vs ${ort1}${ortN ? `; ${nLabel}: kiln-wasm vs ort-wasm` : ''}). Target: >= 1.0x on every workload, geometric mean >= 1.3x at 1 thread.`,
    '',
    `| workload | ${head.join(' | ')} | speed-up 1 thread |${ortN ? ` speed-up ${nLabel} |` : ''}`,
    `|---|${columns.map(() => '---|').join('')}---|${ortN ? '---|' : ''}`,
  ];
  const one: number[] = [];
  const many: number[] = [];
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const cells = columns.map((rt) => p50(results, workload, rt));
    if (cells.every((c) => c === undefined)) continue;
    const k1 = p50(results, workload, 'kiln-wasm-1t');
    const o1 = p50(results, workload, ort1);
    const s1 = k1 !== undefined && o1 !== undefined ? o1 / k1 : undefined;
    const kN = p50(results, workload, 'kiln-wasm');
    const oN = ortN ? p50(results, workload, ortN) : undefined;
    const sN = kN !== undefined && oN !== undefined ? oN / kN : undefined;
    if (s1 !== undefined) one.push(s1);
    if (sN !== undefined) many.push(sN);
    const ratio = (s: number | undefined): string => (s === undefined ? '—' : `${s.toFixed(2)}x${s < 1 ? ' (below 1.0)' : ''}`);
    lines.push(`| ${workload} | ${cells.map((c) => (c === undefined ? '—' : c.toFixed(2))).join(' | ')} | ${ratio(s1)} |${ortN ? ` ${ratio(sN)} |` : ''}`);
  }
  const g1 = geometricMean(one);
  const gN = geometricMean(many);
  lines.push(`| **geometric mean** | ${columns.map(() => '').join(' | ')} | ${one.length ? `${g1.toFixed(2)}x` : '—'} |${ortN ? ` ${many.length ? `${gN.toFixed(2)}x` : '—'} |` : ''}`);
  const below = one.filter((s) => s < 1).length + many.filter((s) => s < 1).length;
  lines.push('', `Met: every workload >= 1.0x: ${below === 0 ? 'yes' : `no (${below} pairs below)`}; geometric mean at 1 thread >= 1.3x: ${g1 >= 1.3 ? 'yes' : 'no'}.`);
  if (evidence) lines.push(...threadCheck(results, columns, evidence));
  lines.push(...threadGain(results));
  return lines;
}
