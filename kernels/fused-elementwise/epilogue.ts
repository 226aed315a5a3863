import { Attributes } from '../../core/attributes.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes } from '../common/shape.ts';
import { toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor } from '../contract.ts';
import { parseProgram, stepCpu, type Program, type Ref } from './program.ts';

/*
 * A FusedElementwise program folded into a producer's epilogue (Conv, MatMul, Gemm, by the WebGPU
 * fusion pass): attributes `kiln_epilogue_steps` and `kiln_epilogue_constants`, the program format
 * of program.ts. Input i0 is the producer's value after its bias and activation; inputs i1..iE
 * (E = `kiln_epilogue_inputs`, default 0) are float32 tensors appended to the node's inputs from
 * slot EPILOGUE_SLOT on (a residual `x`, an SE scale `s`), broadcast with the producer's output.
 */

/** The node input slot of the first extra epilogue tensor (after Conv's X W B, MatMul's A B bias, Gemm's A B C). */
export const EPILOGUE_SLOT = 3;
/** Extra tensors at most: with the three operands and the output, WebGPU's 8 storage buffers per stage. */
export const MAX_EPILOGUE_INPUTS = 4;

export function epilogueInputCount(attrs: Attributes): number {
  return attrs.has('kiln_epilogue_steps') ? attrs.int('kiln_epilogue_inputs', 0) : 0;
}

export function epilogueOf(attrs: Attributes, node: string): Program | undefined {
  const steps = attrs.strings('kiln_epilogue_steps');
  if (!steps) return undefined;
  const extra = attrs.int('kiln_epilogue_inputs', 0);
  if (extra < 0 || extra > MAX_EPILOGUE_INPUTS) fail('INVALID_GRAPH', `node '${node}': kiln_epilogue_inputs must be 0..${MAX_EPILOGUE_INPUTS}, got ${extra}`);
  const p = parseProgram(Attributes.empty().with('steps', [...steps]).with('constants', [...attrs.floats('kiln_epilogue_constants', [])]), node, 1 + extra);
  // Every epilogue operand is float32 (the producer's value; extras are checked in epilogueExtras), so
  // a Cast of one (exports write Cast(x, to=float) around attention scores) is the identity; a Where
  // condition would need a bool operand.
  if (p.roles.some((r) => r === 'cond')) fail('INVALID_GRAPH', `node '${node}': an epilogue reads float32 operands only`);
  return p;
}

/**
 * The epilogue of a producer whose inputs from EPILOGUE_SLOT on are its own (kiln.DequantConv,
 * MatMulNBits, GlobalAveragePool): a tail over its value alone, no extra tensors.
 */
export function unaryEpilogueOf(attrs: Attributes, node: string): Program | undefined {
  if (epilogueInputCount(attrs) > 0) fail('INVALID_GRAPH', `node '${node}': this op's epilogue reads no extra tensors (kiln_epilogue_inputs must be 0)`);
  return epilogueOf(attrs, node);
}

/**
 * A program the WebGPU fusion pass folded into a Conv's load of X (`kiln_prologue_steps`,
 * `kiln_prologue_constants`): an activation's fake quantization that no producer's store could
 * take (the model input's), run on each x value before the convolution reads it. i0 is x.
 */
export function prologueOf(attrs: Attributes, node: string): Program | undefined {
  const steps = attrs.strings('kiln_prologue_steps');
  return steps ? parseProgram(Attributes.empty().with('steps', [...steps]).with('constants', [...attrs.floats('kiln_prologue_constants', [])]), node, 1) : undefined;
}

/** A prologue's X must be float32 (what the fused program reads). */
export function requirePrologueX(p: Program | undefined, dtype: string | undefined, node: string): void {
  if (p && dtype !== 'float32') fail('INVALID_GRAPH', `node '${node}': a load prologue reads float32 X, got ${dtype}`);
}

/** X with the prologue applied (each step rounded to float32, as the separate ops do); X itself without one. */
export function withPrologue(p: Program | undefined, x: AnyTensor, node: string): AnyTensor {
  if (!p) return x;
  requirePrologueX(p, x.type, node);
  const xv = x.data as Float32Array;
  return new Tensor('float32', Float32Array.from(xv, (v) => applyEpilogue(p, v)), x.dims);
}

/** The extra epilogue tensors' metas, checked: present and float32. */
export function epilogueExtras(inputs: readonly MaybeMeta[], attrs: Attributes, node: string): NonNullable<MaybeMeta>[] {
  return Array.from({ length: epilogueInputCount(attrs) }, (_, i) => {
    const m = inputs[EPILOGUE_SLOT + i];
    if (!m) return fail('INVALID_GRAPH', `node '${node}': epilogue input ${i + 1} (slot ${EPILOGUE_SLOT + i}) is missing`);
    if (m.dtype !== 'float32') fail('INVALID_GRAPH', `node '${node}': epilogue input ${i + 1} has type ${m.dtype}, expected float32`);
    return m;
  });
}

/**
 * The node's output shape: the producer's `dims` broadcast with the extra tensors' (as the folded
 * Add/Mul did). Larger than `dims` only where an extra is (the WebGPU kernels then decline the node).
 */
export function epilogueDims(dims: readonly number[], inputs: readonly MaybeMeta[], ctx: KernelContext): number[] {
  const extras = epilogueExtras(inputs, ctx.attrs, ctx.node);
  return extras.length ? broadcastShapes([dims, ...extras.map((m) => m.dims)], ctx) : [...dims];
}

/** The epilogue on one float32 value, each step rounded to float32 as the separate ops do. */
export function applyEpilogue(p: Program, x: number, extra: readonly number[] = []): number {
  const results = new Float64Array(p.steps.length);
  const v = (r: Ref): number => (r.kind === 'i' ? (r.index === 0 ? x : extra[r.index - 1]!) : r.kind === 's' ? results[r.index]! : p.constants[r.index]!);
  for (let s = 0; s < p.steps.length; s++) results[s] = Math.fround(stepCpu(p.steps[s]!, v, p.constants));
  return results[p.steps.length - 1]!;
}

/**
 * The epilogue over the producer's output `y` of shape `dims` (none: y as it is); `inputs` are the
 * node's inputs (the extra tensors from EPILOGUE_SLOT on). In place unless an extra tensor enlarges
 * the output (broadcast as the folded ops did): then a new array of the broadcast shape.
 */
export function withEpilogue<T extends Float32Array | Float64Array>(p: Program | undefined, y: T, dims: readonly number[] = [y.length], inputs: readonly MaybeTensor[] = []): T {
  if (!p) return y;
  const extraTensors = inputs.slice(EPILOGUE_SLOT).filter((t) => t !== undefined);
  const outDims = extraTensors.length ? broadcastDims([dims, ...extraTensors.map((t) => t.dims)]) : dims;
  const size = outDims.reduce((a, b) => a * b, 1);
  const yMap = broadcastIndexMap(outDims, dims);
  // y's own constructor (Float32Array or Float64Array) keeps T without a cast of the value
  const out = yMap ? (new (y.constructor as new (n: number) => T)(size)) : y;
  const extras = extraTensors.map((t) => ({ data: toNumbers(t), map: broadcastIndexMap(outDims, t.dims) }));
  const e = new Array<number>(extras.length);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < extras.length; k++) e[k] = extras[k]!.data[extras[k]!.map ? extras[k]!.map![i]! : i]!;
    out[i] = applyEpilogue(p, Math.fround(y[yMap ? yMap[i]! : i]!), e);
  }
  return out;
}

/** numpy broadcasting of shapes already checked compatible (epilogueDims checked them at plan time). */
function broadcastDims(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => shapes.map((s) => s[s.length - rank + i] ?? 1).find((d) => d !== 1) ?? 1);
}
