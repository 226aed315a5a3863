import { Attributes } from '../../core/attributes.ts';
import { parseProgram, stepCpu, type Program, type Ref } from './program.ts';

/*
 * A FusedElementwise program folded into a producer's epilogue (Conv, by the WebGPU fusion pass):
 * attributes `kiln_epilogue_steps` and `kiln_epilogue_constants`, the program format of
 * program.ts with one input, i0: the producer's value after its bias and activation.
 */

export function epilogueOf(attrs: Attributes, node: string): Program | undefined {
  const steps = attrs.strings('kiln_epilogue_steps');
  if (!steps) return undefined;
  return parseProgram(Attributes.empty().with('steps', [...steps]).with('constants', [...attrs.floats('kiln_epilogue_constants', [])]), node, 1);
}

/** The epilogue on one float32 value, each step rounded to float32 as the separate ops do. */
export function applyEpilogue(p: Program, x: number): number {
  const results = new Float64Array(p.steps.length);
  const v = (r: Ref): number => (r.kind === 'i' ? x : r.kind === 's' ? results[r.index]! : p.constants[r.index]!);
  for (let s = 0; s < p.steps.length; s++) results[s] = Math.fround(stepCpu(p.steps[s]!, v, p.constants));
  return results[p.steps.length - 1]!;
}

/** Every element of `y` through the epilogue (none: y as it is), in place; returns y. */
export function withEpilogue<T extends Float32Array | Float64Array>(p: Program | undefined, y: T): T {
  if (p) for (let i = 0; i < y.length; i++) y[i] = applyEpilogue(p, Math.fround(y[i]!));
  return y;
}
