// The report written to bench/results/: JSON in the issue's schema (extra fields allowed) and Markdown.
import type { BenchResult } from '../page/measure.ts';
import type { AutoChoice } from '../page/auto-choice.ts';
import type { TelemetryOverhead } from '../page/telemetry-overhead.ts';
import type { WorkerCensus } from '../page/worker-census.ts';
import { renderCpuTable } from './cpu-table.ts';
import { renderGpuTable } from './gpu-table.ts';
import { downloadRatio, speedRatios } from './ratios.ts';

export interface BenchReport {
  machine: string;
  browser: string;
  adapter: string;
  date: string;
  results: BenchResult[];
  /** Kiln sessions with telemetry on vs off (absent in reports from before it existed) */
  telemetryOverhead?: TelemetryOverhead[];
  /** what executionProviders: ['auto'] chose per whole-model workload (absent before it existed) */
  autoChoices?: AutoChoice[];
  quick: boolean;
  crossOriginIsolated: boolean;
  /** Workers each runtime started, by name (browser runs; absent in Node and in older reports) */
  workers?: WorkerCensus;
  /** gzip bytes of each runtime's code */
  runtimeSizes: Record<string, number>;
  /** 1-minute load averages at start and end: this machine is shared */
  loadAverage: { start: number; end: number };
  notes: string[];
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
const kb = (v: number | null): string => (v === null ? '—' : `${(v / 1024).toFixed(0)}`);
const mb = (v: number | null): string => (v === null ? '—' : (v / 2 ** 20).toFixed(1));
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: BenchReport): string {
  const lines = [
    `# Kiln benchmark — ${r.date.slice(0, 10)}${r.quick ? ' (quick)' : ''}`,
    '',
    `- date: ${r.date}`,
    `- machine: ${r.machine}`,
    `- browser: ${r.browser}`,
    `- adapter: ${r.adapter}`,
    `- cross-origin isolated (wasm threads): ${r.crossOriginIsolated}`,
    `- load average (1 min) at start / end: ${r.loadAverage.start.toFixed(1)} / ${r.loadAverage.end.toFixed(1)}`,
    ...r.notes.map((n) => `- ${n}`),
    '',
    'Cold = fetch + create + first run (ms). Warm p50/p95 over interleaved runs after warm-up. Throughput in inferences/s.',
    'Peak GPU = bytes of GPU buffers the runtime created for this workload. Download = runtime code + model, gzip.',
    'Max error = max |output - float reference| (the reference column says whose output).',
    '',
    '| workload | runtime | cold ms | fetch / create / first | warm p50 ms | warm p95 ms | runs | /s batch 1 | /s batch 32 | GFLOP/s | peak GPU MB | download KB | max error | reference | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.results) {
    const split = x.status === 'ok' ? `${fmt(x.fetchMs, 0)} / ${fmt(x.createMs, 0)} / ${fmt(x.firstRunMs, 0)}` : '—';
    const note = x.status === 'ok' ? x.note : `${x.status}: ${x.note}`;
    lines.push(`| ${x.workload} | ${x.runtime} | ${fmt(x.coldStartMs, 0)} | ${split} | ${fmt(x.warmP50Ms)} | ${fmt(x.warmP95Ms)} | ${x.runs} | ${fmt(x.throughputBatch1, 1)} | ${fmt(x.throughputBatch32, 1)} | ${fmt(x.gflops)} | ${mb(x.peakGpuBytes)} | ${kb(x.bytesDownloaded)} | ${x.maxError === null ? '—' : x.maxError.toExponential(1)} | ${cell(x.reference)} | ${cell(note)} |`);
  }
  lines.push('', '## Targets', '', '| workload | Kiln | peer | Kiln speed-up on warm p50 | target | met |', '|---|---|---|---|---|---|');
  for (const q of speedRatios(r.results)) {
    lines.push(`| ${q.workload} | ${q.ours} | ${q.theirs} | ${q.speedup.toFixed(2)}x | ${q.target ? `>= ${q.target}x` : 'report'} | ${q.target ? (q.speedup >= q.target ? 'yes' : 'no') : '—'} |`);
  }
  const d = downloadRatio(r.runtimeSizes);
  if (d) {
    const k = r.runtimeSizes['kiln-webgpu']!;
    lines.push('', `Runtime code (gzip): Kiln ${kb(k)} KB; onnxruntime-web WebGPU ${kb(r.runtimeSizes['ort-webgpu'] ?? null)} KB (${d.ortWebgpu.toFixed(1)}x Kiln), wasm ${kb(r.runtimeSizes['ort-wasm'] ?? null)} KB (${d.ortWasm.toFixed(1)}x); TF.js WebGPU ${kb(r.runtimeSizes['tfjs-webgpu'] ?? null)} KB (${d.tfjs.toFixed(1)}x). Target: onnxruntime-web >= 10x Kiln: ${d.ortWebgpu >= 10 && d.ortWasm >= 10 ? 'met' : 'not met'}.`);
  }
  lines.push(...renderGpuTable(r.results));
  lines.push(...renderCpuTable(r.results, r));
  if (r.autoChoices?.length) {
    lines.push('', "## What executionProviders: ['auto'] chose here", '', '| workload | chosen | reason | median warm run per backend (ms) |', '|---|---|---|---|');
    for (const c of r.autoChoices) lines.push(`| ${c.workload} | ${c.chosen ?? '—'} | ${c.error ? `error: ${cell(c.error)}` : (c.reason ?? '')} | ${Object.entries(c.medianMs ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} |`);
  }
  if (r.telemetryOverhead?.length) {
    lines.push('', '## Telemetry overhead (Kiln, telemetry on vs off, interleaved runs, no endpoint)', '', '| workload | runtime | p50 off ms | p50 on ms | overhead | runs |', '|---|---|---|---|---|---|');
    for (const t of r.telemetryOverhead) lines.push(`| ${t.workload} | ${t.runtime} | ${fmt(t.p50OffMs)} | ${fmt(t.p50OnMs)} | ${t.error ? `error: ${cell(t.error)}` : `${fmt(t.overheadPct, 1)}%`} | ${t.runs} |`);
  }
  return `${lines.join('\n')}\n`;
}
