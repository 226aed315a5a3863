// The text `kiln compress` prints: the sensitivity report (worst layer first) and the final table.
import type { CompressResult } from './compress.ts';

const kb = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const g = (x: number): string => (x === 0 ? '0' : x < 1e-3 || x >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function sensitivityReport(r: CompressResult, limit = 20): string {
  if (r.sensitivity.length === 0) return 'sensitivity report: skipped (--sensitivity-samples 0)';
  const rows = r.sensitivity.slice(0, limit).map((s) => [s.layer, s.opType, s.scheme, g(s.error.meanAbs), g(s.error.maxAbs), s.error.top1 === undefined ? '-' : `${(s.error.top1 * 100).toFixed(1)}%`, r.kept.includes(s.layer) ? 'kept float' : '']);
  const more = r.sensitivity.length > limit ? `\n... ${r.sensitivity.length - limit} more layers, less sensitive` : '';
  return `sensitivity (output error with only that layer quantized, worst first; keep the worst in float with --keep NODE):\n${table(['layer', 'op', 'weights', 'mean |err|', 'max |err|', 'top-1', ''], rows)}${more}`;
}

export function finalTable(r: CompressResult): string {
  const base = r.sizes[0]!;
  const sizes = table(['model', 'bytes', 'gzip', 'vs float', 'gzip vs float'], r.sizes.map((s) => [s.what, `${s.bytes} (${kb(s.bytes)})`, `${s.gzip} (${kb(s.gzip)})`, `${(base.bytes / s.bytes).toFixed(2)}x smaller`, `${(base.gzip / s.gzip).toFixed(2)}x smaller`]));
  const e = r.error;
  const err = table(['output error vs float', 'value'], [
    ['max |err|', g(e.maxAbs)],
    ['mean |err|', g(e.meanAbs)],
    ...(e.top1 !== undefined ? [['top-1 agreement (argmax, last axis)', `${(e.top1 * 100).toFixed(2)}%`]] : []),
    ['samples', `${r.calibration.samples.length}${r.calibration.synthetic ? ' (SYNTHETIC)' : ''}`],
    ['layers quantized', `${r.quantized} of ${r.layers}${r.kept.length ? ` (float: ${r.kept.join(', ')})` : ''}`],
  ]);
  return `${sizes}\n\n${err}`;
}
