// The targets, computed from a report: speed-ups of Kiln over its peers on warm p50, the
// download ratio, and Kiln CPU against onnxruntime-web wasm.
import type { BenchResult } from '../page/measure.ts';
import type { RuntimeName } from '../page/runtimes.ts';

export interface Ratio {
  readonly workload: string;
  readonly kind: 'micro' | 'model';
  /** how many times faster `ours` is than `theirs` (theirs p50 / ours p50); > 1 = Kiln faster */
  readonly speedup: number;
  readonly ours: RuntimeName;
  readonly theirs: RuntimeName;
  readonly target: number | undefined;
}

const MICRO = /^(matmul|conv)/;

function p50(results: readonly BenchResult[], workload: string, rt: RuntimeName): number | undefined {
  const r = results.find((x) => x.workload === workload && x.runtime === rt && x.status === 'ok');
  return r?.warmP50Ms ?? undefined;
}

export function speedRatios(results: readonly BenchResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const kind = MICRO.test(workload) ? 'micro' : 'model';
    const pairs: [RuntimeName, RuntimeName, number | undefined][] = [
      ['kiln-webgpu', 'ort-webgpu', kind === 'micro' ? 6 : 4],
      ['kiln-webgpu', 'tfjs-webgpu', kind === 'micro' ? 6 : 4],
      ['kiln-wasm', 'ort-wasm', 1],
      ['kiln-wasm-1t', 'ort-wasm-1t', 1],
      ['kiln-wasm', 'tfjs-wasm', undefined],
      ['kiln-js', 'ort-wasm', undefined],
    ];
    // Node has one onnxruntime-web row, on 1 thread: Kiln's 1-thread row is compared with it.
    if (p50(results, workload, 'ort-wasm-1t') === undefined) pairs.push(['kiln-wasm-1t', 'ort-wasm', 1]);
    for (const [ours, theirs, target] of pairs) {
      const a = p50(results, workload, ours);
      const b = p50(results, workload, theirs);
      if (a !== undefined && b !== undefined) out.push({ workload, kind, speedup: b / a, ours, theirs, target });
    }
  }
  return out;
}

/** onnxruntime-web's code download over Kiln's (gzip): the target is >= 10. */
export function downloadRatio(sizes: Readonly<Record<string, number>>): { ortWebgpu: number; ortWasm: number; tfjs: number } | undefined {
  const k = sizes['kiln-webgpu'];
  if (!k) return undefined;
  return { ortWebgpu: (sizes['ort-webgpu'] ?? NaN) / k, ortWasm: (sizes['ort-wasm'] ?? NaN) / k, tfjs: (sizes['tfjs-webgpu'] ?? NaN) / k };
}
