// onnxruntime's session option freeDimensionOverrides: a symbolic dim of a graph input named here
// becomes that fixed size, so a model with symbolic inputs plans (and, streamed, compiles) at create.
// As in onnxruntime, only graph inputs change (shape inference carries the sizes on), and a name no
// input uses is no error: one options object may serve several models (docs/decisions.md "free-dims").
import { fail } from '../../core/errors.ts';
import type { Model } from './ir.ts';

export type FreeDimensionOverrides = Readonly<Record<string, number>>;

/** Typed INVALID_ARGUMENT for anything but a record of names to positive integers. */
export function checkFreeDimensionOverrides(overrides: unknown): asserts overrides is FreeDimensionOverrides | undefined {
  if (overrides === undefined) return;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) fail('INVALID_ARGUMENT', `freeDimensionOverrides must be an object of dim names to sizes, got ${JSON.stringify(overrides)}`);
  for (const [name, size] of Object.entries(overrides)) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) fail('INVALID_ARGUMENT', `freeDimensionOverrides['${name}'] must be a positive integer, got ${JSON.stringify(size) ?? String(size)}`, { dim: name });
  }
}

/** the size `overrides` gives a dim, if it is a symbolic one it names */
export function overriddenSize(overrides: FreeDimensionOverrides | undefined, dim: unknown): number | undefined {
  return overrides && typeof dim === 'string' && Object.hasOwn(overrides, dim) ? overrides[dim] : undefined;
}

/** `model` with its graph inputs' symbolic dims named in `overrides` fixed (the same model when none is) */
export function fixFreeDimensions(model: Model, overrides: FreeDimensionOverrides | undefined): Model {
  const graph = model.graph;
  let changed = false;
  const inputs = graph.inputs.map((v) => {
    if (!v.dims?.some((d) => overriddenSize(overrides, d) !== undefined)) return v;
    changed = true;
    return { ...v, dims: v.dims.map((d) => overriddenSize(overrides, d) ?? d) };
  });
  return changed ? { ...model, graph: { ...graph, inputs } } : model;
}
