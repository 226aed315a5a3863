// run()'s arguments after the feeds as onnxruntime-web reads them, so a caller switching imports
// keeps working: run(feeds), run(feeds, options), run(feeds, ['name', ...], options) and
// run(feeds, { name: null | preAllocatedTensor, ... }, options). A pre-allocated output is filled in
// place and returned as the same object; a run that reuses its output tensors allocates nothing for
// them (a fresh 256 KB array costs ~0.8 ms of page faults per run in Chromium: docs/bench.md).
import { fail } from '../../core/errors.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { isObject, isTensorLike, preallocatedOutputs } from './preallocated-outputs.ts';

/** onnxruntime-web's RunOptions. Accepted for compatibility; Kiln reads none of them (logging and tags are onnxruntime's own). */
export interface RunOptions {
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  readonly logVerbosityLevel?: number;
  readonly terminate?: boolean;
  readonly tag?: string;
  readonly extra?: Record<string, unknown>;
}

/** Output names, or output names mapped to null (allocate) or to a CPU tensor to fill in place. */
export type FetchesType = readonly string[] | Readonly<Record<string, AnyTensor | null>>;

export interface RunArguments {
  /** the outputs to compute, in the order asked (a map: the model's output order, as onnxruntime-web) */
  readonly names: readonly string[];
  /** pre-allocated outputs by name: this bundle's Tensors, or onnxruntime-web's (same fields), filled in place */
  readonly into: ReadonlyMap<string, AnyTensor>;
}

function checkOptions(options: unknown): void {
  if (options !== undefined && !isObject(options)) fail('INVALID_ARGUMENT', `run(): options must be an object (got ${typeof options})`);
}

/** Reads run(feeds, arg1, arg2)'s fetches and options the way onnxruntime-web does; unknown names and bad shapes are clear errors. */
export function runArguments(outputNames: readonly string[], arg1: unknown, arg2: unknown): RunArguments {
  const all = { names: outputNames, into: new Map<string, AnyTensor>() };
  if (arg1 === undefined) {
    checkOptions(arg2);
    return all;
  }
  if (!isObject(arg1)) fail('INVALID_ARGUMENT', `run(): expected fetches or options, got ${typeof arg1}`);
  checkOptions(arg2);
  if (Array.isArray(arg1)) {
    if (arg1.length === 0) fail('INVALID_ARGUMENT', 'run(): fetches is empty');
    for (const name of arg1) {
      if (typeof name !== 'string') fail('INVALID_ARGUMENT', `run(): fetches holds a ${typeof name}, not an output name`);
      if (!outputNames.includes(name)) fail('INPUT_MISMATCH', `unknown output '${name}'; the model's outputs are ${outputNames.join(', ')}`);
    }
    if (new Set(arg1).size !== arg1.length) fail('INVALID_ARGUMENT', `run(): fetches names an output twice`);
    return { names: arg1 as readonly string[], into: all.into };
  }
  if (isTensorLike(arg1)) fail('INVALID_ARGUMENT', 'run(): fetches cannot be a Tensor: give { name: tensor }');
  const { names, into } = preallocatedOutputs(outputNames, arg1);
  if (names) return { names, into };
  if (arg2 !== undefined) fail('INVALID_ARGUMENT', 'run(): options given twice');
  return all; // arg1 was the options
}
