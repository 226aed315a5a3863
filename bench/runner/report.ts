import type { BenchResult } from '../page/measure.ts';

export interface BenchReport {
  machine: string;
  browser: string;
  adapter: string;
  date: string;
  results: BenchResult[];
}

const fmt = (v: number | undefined, digits = 2): string => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));

export function renderMarkdown(r: BenchReport): string {
  const lines = [
    `# Kiln benchmark — ${r.date.slice(0, 10)}`,
    '',
    `- machine: ${r.machine}`,
    `- browser: ${r.browser}`,
    `- adapter: ${r.adapter}`,
    '',
    '| workload | runtime | cold start ms | warm p50 ms | warm p95 ms | GFLOP/s | max error | note |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.results) {
    lines.push(`| ${x.workload} | ${x.runtime} | ${fmt(x.coldStartMs, 0)} | ${fmt(x.warmP50Ms)} | ${fmt(x.warmP95Ms)} | ${fmt(x.gflops)} | ${x.error ? 'error' : x.maxError.toExponential(1)} | ${x.error ?? x.note} |`);
  }
  return `${lines.join('\n')}\n`;
}
