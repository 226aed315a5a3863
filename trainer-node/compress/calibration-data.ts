// Calibration inputs for `kiln compress`: a folder holding one `<input name>.npy` per model input,
// each a stack of samples along axis 0 (numpy: np.save('x.npy', np.stack(samples))). Sample i of
// every input forms one feed, run with a batch of 1: a file of shape [S, ...] gives feeds of shape
// [1, ...]. Without a folder, synthetic inputs stand in, with a loud warning: uniform in [-1, 1) for
// floats, and for integer inputs values the graph accepts (integer-inputs.ts) or a refusal.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { ValueInfo } from '../../runtime/graph/ir.ts';
import { fromNumbers } from '../../kernels/common/values.ts';
import type { WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readNpy } from '../common/npy.ts';
import { integerFill, type IntegerFill } from './integer-inputs.ts';

export type Feed = Record<string, AnyTensor>;

export interface CalibrationSet {
  readonly samples: readonly Feed[];
  readonly synthetic: boolean;
  readonly origin: string;
}

const dimsText = (d: readonly (number | string | undefined)[]): string => `[${d.map((x) => x ?? '?').join(', ')}]`;

export function loadCalibration(dir: string, inputs: readonly ValueInfo[], maxSamples: number): CalibrationSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail('INVALID_ARGUMENT', `--calib ${dir}: no such folder`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.npy'));
  if (files.length === 0) fail('INVALID_ARGUMENT', `--calib ${dir}: the folder holds no .npy files (expected ${inputs.map((i) => `${i.name}.npy`).join(', ')})`);
  const wanted = new Set(inputs.map((i) => `${i.name}.npy`));
  const unknown = files.filter((f) => !wanted.has(f));
  if (unknown.length > 0) fail('INVALID_ARGUMENT', `--calib ${dir}: ${unknown.join(', ')} match${unknown.length === 1 ? 'es' : ''} no model input (the model's inputs: ${inputs.map((i) => i.name).join(', ')})`);
  let count = -1;
  const stacks = inputs.map((input) => {
    const file = join(dir, `${input.name}.npy`);
    if (!existsSync(file)) fail('INVALID_ARGUMENT', `--calib ${dir}: no ${input.name}.npy for model input '${input.name}'`);
    const t = readNpy(new Uint8Array(readFileSync(file)), file);
    if (t.type !== input.dtype) fail('INVALID_ARGUMENT', `${file}: dtype ${t.type}, but model input '${input.name}' is ${input.dtype}`);
    checkShape(t.dims, input, file);
    if (count >= 0 && t.dims[0] !== count) fail('INVALID_ARGUMENT', `${file}: ${t.dims[0]} samples, but other inputs hold ${count}`);
    count = t.dims[0]!;
    return { input, t };
  });
  if (count === 0) fail('INVALID_ARGUMENT', `--calib ${dir}: the .npy files hold 0 samples`);
  const n = Math.min(count, maxSamples);
  const samples: Feed[] = [];
  for (let i = 0; i < n; i++) samples.push(Object.fromEntries(stacks.map(({ input, t }) => [input.name, sampleOf(t, i)])));
  return { samples, synthetic: false, origin: `${basename(dir)} (${n} of ${count} samples)` };
}

/** File shape [S, ...sample dims] must match the input's rank and fixed dims; the batch dim (if fixed) must be 1. */
function checkShape(dims: readonly number[], input: ValueInfo, file: string): void {
  const want = input.dims;
  if (!want) return;
  const ok = dims.length === want.length && want.every((d, i) => i === 0 ? d === undefined || typeof d === 'string' || d === 1 : typeof d !== 'number' || d === dims[i]);
  if (!ok) fail('INVALID_ARGUMENT', `${file}: shape ${dimsText(dims)}, expected ${dimsText(['samples', ...want.slice(1)])} for model input '${input.name}' ${dimsText(want)} (samples stacked along axis 0, each fed with batch 1)`);
}

function sampleOf(t: AnyTensor, i: number): AnyTensor {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array;
  const slice = data.slice(i * per, (i + 1) * per);
  return new Tensor(t.type, slice as typeof data, [1, ...t.dims.slice(1)]);
}

/** Uniform [-1, 1) float inputs; integer inputs as integerFill says; symbolic dims: batch 1, others `freeDim`. */
export function syntheticCalibration(model: WriterModel, count: number, freeDim: number, random: () => number = Math.random): CalibrationSet {
  const inputs: readonly ValueInfo[] = model.inputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: i.dims }));
  const shapes = inputs.map((input) => (input.dims ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : freeDim)));
  // Decided (or refused) for every input before any sample is made.
  const fills = new Map<string, IntegerFill>();
  for (const input of inputs) {
    if (input.dtype === 'string') fail('UNSUPPORTED_FEATURE', `input '${input.name}' is a string tensor: pass --calib`);
    if (input.dtype !== 'float32' && !input.dtype.startsWith('float')) fills.set(input.name, integerFill(model, input.name));
  }
  const samples: Feed[] = [];
  for (let s = 0; s < count; s++) {
    samples.push(Object.fromEntries(inputs.map((input, k) => {
      const dims = shapes[k]!;
      const n = dims.reduce((a, b) => a * b, 1);
      const fill = fills.get(input.name);
      if (!fill) return [input.name, fromNumbers(input.dtype, dims, Array.from({ length: n }, () => random() * 2 - 1))];
      const value = fill.kind === 'ids' ? () => Math.floor(random() * fill.rows) : fill.kind === 'ones' ? () => 1 : () => 0;
      return [input.name, fromNumbers(input.dtype, dims, Array.from({ length: n }, value))];
    })));
  }
  const described = [...fills].map(([name, f]) => `${name}: ${f.kind === 'ids' ? `ids in [0, ${f.rows})` : `${f.kind} (${f.why})`}`);
  return { samples, synthetic: true, origin: `synthetic inputs (floats uniform in [-1, 1)${described.length ? `; ${described.join('; ')}` : ''}), shapes ${shapes.map(dimsText).join(', ')}` };
}
