// Pre-allocated outputs as onnxruntime-web takes them in run(feeds, { name: tensor | null }): which
// object is fetches (and which tensors to fill), checking a filled tensor, filling it. Kept apart
// from run-arguments.ts because the page's bundle needs only this: the session (in the worker or in
// this thread) reads and checks everything else.
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import type { AnyTensor } from '../../core/tensor.ts';

export const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null;
/** Duck-typed, so either bundle's Tensor and onnxruntime-web's pass: JavaScript callers hand any of them. */
export const isTensorLike = (v: unknown): v is AnyTensor => isObject(v) && 'dims' in v && 'type' in v && ('data' in v || 'location' in v);

/**
 * onnxruntime-web's rule for run()'s second argument when it is an object and not a list: naming an
 * output with null or a tensor makes it fetches (those outputs, in the model's order); else it is
 * options (names: undefined). The tensors must be CPU tensors with a typed array, one per output.
 */
export function preallocatedOutputs(outputNames: readonly string[], arg: Readonly<Record<string, unknown>>): { names?: readonly string[]; into: Map<string, AnyTensor> } {
  const into = new Map<string, AnyTensor>();
  const names = outputNames.filter((n) => Object.hasOwn(arg, n) && (arg[n] === null || isTensorLike(arg[n])));
  for (const name of names) {
    const t = arg[name];
    if (!isTensorLike(t)) continue; // null: allocate
    if ((t.location ?? 'cpu') !== 'cpu') fail('UNSUPPORTED_FEATURE', `pre-allocated output '${name}' is a ${String(t.location)} tensor; only CPU tensors are filled in place`, { output: name });
    if (!ArrayBuffer.isView(t.data)) fail('INVALID_ARGUMENT', `pre-allocated output '${name}' has no typed array to fill`, { output: name });
    for (const [other, o] of into) if (o.data === t.data) fail('INVALID_ARGUMENT', `outputs '${other}' and '${name}' were given the same tensor`, { output: name });
    into.set(name, t);
  }
  return names.length > 0 ? { names, into } : { into };
}

/** A pre-allocated output must hold what the run computes: same element type and dims, as many elements. */
export function checkOutputTensor(name: string, t: AnyTensor, type: DataType, dims: readonly number[]): void {
  const given = (t.data as ArrayLike<unknown>).length; // a typed array (preallocatedOutputs)
  if (t.type !== type || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]) || given !== dims.reduce((a, b) => a * b, 1)) {
    fail('INPUT_MISMATCH', `pre-allocated output '${name}': the model gives ${type} [${dims.join(', ')}], the tensor is ${t.type} [${t.dims.join(', ')}] holding ${given} elements`, { output: name });
  }
}

/** Copies a computed output into a pre-allocated one (checked first) and returns the caller's tensor. */
export function fillOutput(name: string, into: AnyTensor, result: AnyTensor): AnyTensor {
  checkOutputTensor(name, into, result.type, result.dims);
  if (into.data === result.data) return into;
  // the same element type by name, but a Float16Array and a Uint16Array (both float16) would convert values
  if (into.data.constructor !== result.data.constructor) fail('INPUT_MISMATCH', `pre-allocated output '${name}' is a ${into.data.constructor.name}, the result a ${result.data.constructor.name}`, { output: name });
  (into.data as Float32Array).set(result.data as Float32Array); // the same typed array class (checked just above)
  return into;
}
