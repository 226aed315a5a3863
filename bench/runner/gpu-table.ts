// The WebGPU table issue 14 asks for: Kiln WebGPU beside onnxruntime-web WebGPU and TF.js WebGPU,
// side by side in one run, warm p50 in ms, with Kiln's speed-ups and their geometric mean over the
// whole-model workloads (target: >= 15x onnxruntime-web WebGPU).
import type { BenchResult } from '../page/measure.ts';
import type { RuntimeName } from '../page/runtimes.ts';
import { geometricMean } from './cpu-table.ts';

const COLUMNS: readonly RuntimeName[] = ['kiln-webgpu', 'ort-webgpu', 'tfjs-webgpu'];
/** the micro workloads (one MatMul or Conv); everything else is a whole model */
const MICRO = /^(matmul|conv)/;
export const WEBGPU_MODEL_TARGET = 15;

function p50(results: readonly BenchResult[], workload: string, rt: RuntimeName): number | undefined {
  const r = results.find((x) => x.workload === workload && x.runtime === rt && x.status === 'ok');
  return r?.warmP50Ms ?? undefined;
}

/** Markdown lines (starting with a blank line), or none when Kiln WebGPU and a WebGPU peer did not both run. */
export function renderGpuTable(results: readonly BenchResult[]): string[] {
  const ran = (rt: RuntimeName): boolean => results.some((x) => x.runtime === rt && x.status === 'ok');
  if (!ran('kiln-webgpu') || !(ran('ort-webgpu') || ran('tfjs-webgpu'))) return [];
  const lines = [
    '',
    '## WebGPU backends (warm p50 ms; lower is faster)',
    '',
    `Speed-up = peer p50 / Kiln WebGPU p50, same run, interleaved. Target (issue 14): geometric mean over the whole-model workloads >= ${WEBGPU_MODEL_TARGET}x onnxruntime-web WebGPU.`,
    '',
    `| workload | ${COLUMNS.join(' | ')} | vs ort-webgpu | vs tfjs-webgpu |`,
    `|---|${COLUMNS.map(() => '---|').join('')}---|---|`,
  ];
  const vsOrt: number[] = [];
  const vsTf: number[] = [];
  const speedup = (w: string, peer: RuntimeName): number | undefined => {
    const k = p50(results, w, 'kiln-webgpu');
    const o = p50(results, w, peer);
    return k === undefined || o === undefined ? undefined : o / k;
  };
  const fmt = (s: number | undefined): string => (s === undefined ? '—' : `${s.toFixed(2)}x`);
  for (const w of [...new Set(results.map((r) => r.workload))]) {
    if (p50(results, w, 'kiln-webgpu') === undefined) continue;
    const model = !MICRO.test(w);
    const so = speedup(w, 'ort-webgpu');
    const st = speedup(w, 'tfjs-webgpu');
    if (model && so !== undefined) vsOrt.push(so);
    if (model && st !== undefined) vsTf.push(st);
    const cells = COLUMNS.map((rt) => p50(results, w, rt)?.toFixed(2) ?? '—');
    lines.push(`| ${w}${model ? '' : ' (micro)'} | ${cells.join(' | ')} | ${fmt(so)} | ${fmt(st)} |`);
  }
  const gOrt = geometricMean(vsOrt);
  const gTf = geometricMean(vsTf);
  lines.push(`| **geometric mean, whole models** | ${COLUMNS.map(() => '').join(' | ')} | ${vsOrt.length ? `${gOrt.toFixed(2)}x (${vsOrt.length})` : '—'} | ${vsTf.length ? `${gTf.toFixed(2)}x (${vsTf.length})` : '—'} |`);
  lines.push('', `Met: geometric mean vs onnxruntime-web WebGPU >= ${WEBGPU_MODEL_TARGET}x: ${vsOrt.length === 0 ? 'not measured' : gOrt >= WEBGPU_MODEL_TARGET ? 'yes' : 'no'}.`);
  return lines;
}
