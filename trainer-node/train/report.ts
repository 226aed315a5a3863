// model.report.json and the table printed at the end of `kiln train`.
import type { PruneConfig } from './prune.ts';

export interface TrainReport {
  readonly dataset: string;
  readonly arch: string;
  readonly bits: number;
  readonly seed: number;
  readonly backend: string;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly epochs: { readonly float: number; readonly qat: number };
  /** test-set accuracy: through Kiln's runtime (the numbers that count) and in TF.js */
  readonly accuracy: { readonly floatKiln: number; readonly floatTfjs: number; readonly quantizedKiln: number; readonly quantizedTfjs: number };
  readonly bytes: { readonly kiln: number; readonly onnx: number; readonly floatOnnx: number; readonly kilnVsFloatOnnx: number };
  readonly sparsity: number;
  readonly prune?: PruneConfig;
  readonly distill: boolean;
  /** wall-clock seconds of the phases and the whole run (training, evaluation, export), and CPU seconds of the run */
  readonly seconds: { readonly float: number; readonly qat: number; readonly total: number; readonly cpu?: number };
  readonly layers: readonly { readonly name: string; readonly kind: string; readonly shape: readonly number[]; readonly scheme: string }[];
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

export function formatReport(r: TrainReport): string {
  const q = r.bits === 32 ? 'float32' : `int${r.bits}`;
  const rows: [string, string][] = [
    ['dataset / arch', `${r.dataset} / ${r.arch} (${r.trainSamples} train, ${r.testSamples} test, seed ${r.seed})`],
    ['test accuracy, float (Kiln)', pct(r.accuracy.floatKiln)],
    [`test accuracy, ${q} (Kiln)`, `${pct(r.accuracy.quantizedKiln)} (${((r.accuracy.quantizedKiln - r.accuracy.floatKiln) * 100).toFixed(2)} points)`],
    [`test accuracy, ${q} (TF.js)`, pct(r.accuracy.quantizedTfjs)],
    ['.kiln bundle', `${kb(r.bytes.kiln)} (${r.bytes.kilnVsFloatOnnx.toFixed(3)}x the float ONNX, ${kb(r.bytes.floatOnnx)})`],
    ['ONNX (QDQ)', kb(r.bytes.onnx)],
    ['weight sparsity', `${pct(r.sparsity)}${r.prune ? ` (${r.prune.kind === '2:4' ? '2:4 structured' : `magnitude, target ${pct(r.prune.sparsity)}`})` : ''}`],
    ['training time', `${r.seconds.total.toFixed(0)} s wall${r.seconds.cpu !== undefined ? `, ${r.seconds.cpu.toFixed(0)} s CPU` : ''} (float ${r.epochs.float} epochs ${r.seconds.float.toFixed(0)} s, QAT ${r.epochs.qat} epochs ${r.seconds.qat.toFixed(0)} s; TF.js ${r.backend})`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}
