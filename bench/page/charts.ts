// The page's charts as plain SVG (no chart library): warm latency distributions per workload and
// download size vs accuracy per runtime.
import type { BenchResult } from './measure.ts';
import { RUNTIMES, type RuntimeName } from './runtimes.ts';

const COLORS: Record<RuntimeName, string> = { 'kiln-webgpu': '#d9480f', 'kiln-js': '#f59f00', 'ort-webgpu': '#1c7ed6', 'ort-wasm': '#74c0fc', 'tfjs-webgpu': '#37b24d', 'kiln-wasm': '#e8590c', 'kiln-wasm-1t': '#ff922b', 'ort-wasm-1t': '#a5d8ff', 'tfjs-wasm': '#8ce99a' };
const W = 640;
const LEFT = 110;
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** log10 scale over [lo, hi] onto [x0, x1]. */
function logScale(lo: number, hi: number, x0: number, x1: number): (v: number) => number {
  const a = Math.log10(lo);
  const b = Math.log10(hi) === a ? a + 1 : Math.log10(hi);
  return (v) => x0 + ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * (x1 - x0);
}

function axisTicks(lo: number, hi: number, x: (v: number) => number, y: number, unit: string): string {
  const out: string[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v < lo / 1.01 || v > hi * 1.01) continue;
    out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="0" y2="${y}" stroke="#ddd"/><text x="${x(v)}" y="${y + 14}" font-size="11" text-anchor="middle">${v >= 1 ? v : v.toExponential(0)}${unit}</text>`);
  }
  return out.join('');
}

/** One strip per runtime: every warm run as a dot, p50 and p95 as ticks; log-scaled milliseconds. */
export function latencyChart(workload: string, rows: readonly BenchResult[]): string {
  const ok = rows.filter((r) => r.samplesMs.length > 0);
  if (ok.length === 0) return '';
  const all = ok.flatMap((r) => r.samplesMs);
  const lo = Math.min(...all) * 0.8;
  const hi = Math.max(...all) * 1.25;
  const h = 28 * ok.length + 24;
  const x = logScale(lo, hi, LEFT, W - 10);
  const strips = ok.map((r, i) => {
    const y = 14 + i * 28;
    const dots = r.samplesMs.map((v) => `<circle cx="${x(v).toFixed(1)}" cy="${y}" r="2.5" fill="${COLORS[r.runtime]}" fill-opacity="0.5"/>`).join('');
    const tick = (v: number | null, label: string): string => (v === null ? '' : `<line x1="${x(v)}" x2="${x(v)}" y1="${y - 9}" y2="${y + 9}" stroke="#000"/><text x="${x(v) + 2}" y="${y - 10}" font-size="9">${label}</text>`);
    return `<text x="4" y="${y + 4}" font-size="12">${r.runtime}</text>${dots}${tick(r.warmP50Ms, 'p50')}${tick(r.warmP95Ms, 'p95')}`;
  });
  return `<figure><figcaption>${esc(workload)}: warm latency (ms, log scale)</figcaption><svg width="${W}" height="${h + 16}" role="img">${axisTicks(lo, hi, x, h, '')}${strips.join('')}</svg></figure>`;
}

/** Download size (runtime + model, gzip) against max error vs the float reference, one dot per result. */
export function sizeAccuracyChart(rows: readonly BenchResult[]): string {
  const pts = rows.filter((r) => r.bytesDownloaded !== null && r.maxError !== null);
  if (pts.length === 0) return '';
  const H = 320;
  const minErr = 1e-8;
  const x = logScale(Math.min(...pts.map((r) => r.bytesDownloaded!)) * 0.8, Math.max(...pts.map((r) => r.bytesDownloaded!)) * 1.25, 50, W - 10);
  const errs = pts.map((r) => Math.max(minErr, r.maxError!));
  const yLo = Math.min(...errs) / 2;
  const yHi = Math.max(...errs) * 2;
  const y = (v: number): number => H - 20 - ((Math.log10(Math.max(v, minErr)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo) || 1)) * (H - 40);
  const dots = pts.map((r) => `<circle cx="${x(r.bytesDownloaded!).toFixed(1)}" cy="${y(r.maxError!).toFixed(1)}" r="4" fill="${COLORS[r.runtime]}"><title>${esc(`${r.workload} ${r.runtime}: ${(r.bytesDownloaded! / 1024).toFixed(0)} KB, max error ${r.maxError!.toExponential(1)}`)}</title></circle>`);
  const legend = RUNTIMES.map((rt, i) => `<circle cx="${60 + i * 115}" cy="8" r="4" fill="${COLORS[rt]}"/><text x="${67 + i * 115}" y="12" font-size="11">${rt}</text>`).join('');
  const xTicks = [1e4, 1e5, 1e6, 1e7, 1e8].map((v) => `<text x="${x(v)}" y="${H}" font-size="11" text-anchor="middle">${v / 1e3 >= 1000 ? `${v / 1e6} MB` : `${v / 1e3} KB`}</text>`).join('');
  return `<figure><figcaption>Download (gzip, log) vs max error against the float reference (log; 0 drawn at ${minErr})</figcaption><svg width="${W}" height="${H + 6}" role="img">${legend}${xTicks}${dots.join('')}</svg></figure>`;
}
