import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyTensor } from '../../core/tensor.ts';
import { readOnnxModel, readOnnxTensor } from '../../runtime/format/onnx/onnx-reader.ts';
import { KilnError } from '../../core/errors.ts';
import { resolveGraph } from '../../runtime/plan/resolved-graph.ts';
import type { Model } from '../../runtime/graph/ir.ts';
import { conformanceDir } from '../helpers/paths.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them (kernels/lazy-families.ts)

export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

export interface ConformanceCase {
  readonly suite: string;
  readonly name: string;
  readonly dir: string;
}

export interface LoadedCase {
  readonly model: Model;
  readonly modelBytes: Uint8Array;
  readonly dataSets: { inputs: Record<string, AnyTensor>; outputs: Record<string, AnyTensor> }[];
}

export function listCases(): ConformanceCase[] {
  // Without the data every conformance test would silently not exist: fail loudly instead.
  if (!existsSync(conformanceDir)) throw new Error(`the ONNX conformance data is missing: expected ${conformanceDir} (shared/conformance/onnx beside or inside the checkout)`);
  const cases: ConformanceCase[] = [];
  for (const suite of SUITES) {
    const root = join(conformanceDir, suite);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (existsSync(join(dir, 'model.onnx'))) cases.push({ suite, name, dir });
    }
  }
  return cases;
}

/** Why a case cannot run: the unsupported ops, or the model feature we do not read. */
export function unsupportedReason(c: ConformanceCase): string | undefined {
  try {
    const model = readOnnxModel(readFileSync(join(c.dir, 'model.onnx')));
    resolveGraph(model);
    return undefined;
  } catch (e) {
    if (e instanceof KilnError && (e.code === 'UNSUPPORTED_OPS' || e.code === 'UNSUPPORTED_FEATURE')) return e.message;
    throw e;
  }
}

export function loadCase(c: ConformanceCase): LoadedCase {
  const modelBytes = new Uint8Array(readFileSync(join(c.dir, 'model.onnx')));
  const model = readOnnxModel(modelBytes);
  const inputNames = model.graph.inputs.map((i) => i.name);
  const outputNames = model.graph.outputs.map((o) => o.name);
  const dataSets = readdirSync(c.dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const read = (prefix: string, names: string[]): Record<string, AnyTensor> => {
        const files = readdirSync(join(c.dir, d)).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'));
        files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
        const out: Record<string, AnyTensor> = {};
        files.forEach((f, i) => {
          const name = names[i];
          if (name !== undefined) out[name] = readOnnxTensor(readFileSync(join(c.dir, d, f)));
        });
        return out;
      };
      return { inputs: read('input_', inputNames), outputs: read('output_', outputNames) };
    });
  return { model, modelBytes, dataSets };
}
