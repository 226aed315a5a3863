import { fail } from '../../core/errors.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { coalesceBroadcast } from '../webgpu/coalesce-broadcast.ts';
import { rowVec4, type RowOperand } from '../webgpu/row-vec4.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { POW_HELPER } from '../elementwise-binary/binary-math.ts';
import { CLIP_MATH, wgslNanPassThrough, wgslUnaryExpr } from '../elementwise-unary/unary-math.ts';
import { wgslQuantizeFinish, wgslQuantRound, wgslQuantRoundFast } from '../webgpu/quant-round-wgsl.ts';
import { EPILOGUE_SLOT } from './epilogue.ts';
import { inferFused } from './op.ts';
import { MAX_FUSED_INPUTS, type Program, type Ref, type Step } from './program.ts';


/** `k` names the uniform accessor of the program's constants. */
const refExpr = (r: Ref, k: string): string => (r.kind === 'i' ? `in${r.index}` : r.kind === 's' ? `s${r.index}` : `${k}(${r.index}u)`);

/**
 * One step as WGSL statements assigning `s<n>`; each op's expression comes from its table (NaN rules
 * included). `fast`: a quantization step rounds the hardware quotient and flags where that may be wrong
 * (wgslQuantRoundFast), for a caller that redoes those outputs exactly.
 */
function stepWgsl(b: ShaderBuilder, step: Step, n: number, k: string, fast = false): string {
  const [a0, a1, a2] = step.args.map((r) => refExpr(r, k));
  let expr: string;
  switch (step.kind) {
    case 'unary':
      expr = wgslUnaryExpr(b, step.unary!, 'f32', (i) => refExpr(step.args[1 + i]!, k), step.mode, 'float32');
      return `  var s${n}: f32;\n  { let x = ${a0}; s${n} = ${expr}; }`;
    case 'binary':
      if (step.op === 'Pow') b.helper('kiln_pow', POW_HELPER);
      return `  var s${n}: f32;\n  { let a = ${a0}; let b = ${a1}; s${n} = ${step.binary!.wgsl('f32', '')}; }`;
    case 'clip':
      expr = wgslNanPassThrough(b, CLIP_MATH.wgsl('x', a1!, a2!));
      return `  var s${n}: f32;\n  { let x = ${a0}; s${n} = ${expr}; }`;
    case 'where': return `  let s${n} = select(${a2}, ${a1}, ${a0} != 0u);`;
    case 'cast': return `  let s${n} = ${a0};`;
    case 'quant': {
      // kiln.QuantizeDequantize's own expression (quantize-dequantize/webgpu.ts): the integer it stores, then (q - z) * s
      const [s, z, lo, hi] = step.args.slice(1).map((r) => refExpr(r, k));
      return `  let s${n} = f32(i32(clamp(${fast ? wgslQuantRoundFast(b) : wgslQuantRound(b, 'float32')}(${a0}, ${s}) + ${z}, ${lo}, ${hi})) - i32(${z})) * ${s};`;
    }
    case 'quantize':
      // only the last step of a program with an integer output_dtype (parseProgram), which the fused kernel
      // runs as its store's rounding (wgslQuantizeFinish); epilogues and prologues have no output_dtype
      return fail('INTERNAL', `step ${n}: a QuantizeLinear step reached the step code`);
  }
}

/**
 * The program's steps as WGSL statements over `in<n>` (declared by the caller), result in `s<last>`; its
 * constants the uniform array `k`, registered unless a twin of the program (`fast`) already did.
 */
export function programWgsl(b: ShaderBuilder, program: Program, k: string, fast = false): string[] {
  if (program.constants.length > 0 && !b.hasUniform(k)) b.uniformArray(k, 'f32', program.constants);
  return program.steps.map((s, i) => stepWgsl(b, s, i, k, fast));
}

/** Whether the program rounds onto a quantization grid (a fake quantization), which wgslEpilogue's `fast` form flags instead of dividing exactly. */
export const roundsExactly = (p: Program): boolean => p.steps.some((s) => s.kind === 'quant');

/**
 * One shader for the whole program: its steps as one helper called per output element, each input
 * loaded once per element. Shapes are coalesced first (coalesce-broadcast.ts); inputs of the output's
 * size or of one element take the builder's elementwise form, four elements per invocation where the
 * count allows; a broadcast along rows (a squeeze-excite scale [C, 1] over [C, H*W]) the rows' vec4
 * form; anything else one invocation per element through the broadcast index maps. SwiftShader pays per
 * instruction: the squeeze-excite Mul with its QuantizeLinear took 0.67 ms at one invocation per
 * element, 0.49 ms in the rows form (the plain Mul: 0.13). The WGSL depends on the program's
 * structure, ranks and which inputs broadcast; constants are uniforms, so every recurring chain of a
 * model (PaddleOCR's Mul-Add-HardSwish-Mul-Add) shares one pipeline.
 */
const fused: WebGpuKernel = (inputs, outputs, ctx) => {
  if (inputs.length > MAX_FUSED_INPUTS) return undefined;
  const { program } = inferFused(inputs, ctx);
  const shapes = coalesceBroadcast(outputs[0]!.dims, inputs.map((m) => m!.dims));
  const b = new ShaderBuilder(ctx.caps);
  const vars = inputs.map((m, i) => b.input(`I${i}`, { ...m!, dims: shapes.operands[i]! }, i));
  const Y = b.output('Y', { dtype: program.outType, dims: shapes.out });
  const n = b.uniform('n', 'u32', Y.size);
  // a final QuantizeLinear runs after the lanes, on all four at once in the vec4 forms (wgslQuantizeFinish)
  const last = program.steps[program.steps.length - 1]!;
  const quantize = last.kind === 'quantize' ? last : undefined;
  const value = programHelper(b, quantize ? { ...program, steps: program.steps.slice(0, -1) } : program, vars, quantize ? refExpr(quantize.args[0]!, 'k') : undefined);
  const [qs, qz, qlo, qhi] = quantize ? quantize.args.slice(1).map((r) => refExpr(r, 'k')) : [];
  const finish = quantize ? wgslQuantizeFinish(b, qs!, qz!, qlo!, qhi!, Y.type === 'i32' ? 'i32' : 'u32') : undefined;
  const operands: RowOperand[] = vars.map((v, i) => ({ name: `in${i}`, tensor: v, ...(program.roles[i] === 'cast' ? { wrap: (x: string) => `f32(${x})` } : {}) }));
  const label = (form: string): string => `FusedElementwise(${program.steps.map((s) => s.op).join(',')})${form}:${ctx.node}`;
  if (Y.size > 0 && vars.every((v) => v.size === Y.size || v.size === 1)) {
    const ew = b.elementwise({ out: Y, count: Y.size, operands, value, countUniform: n, ...(finish ? { finish } : {}) });
    return { kind: 'programs', programs: [b.build({ label: label(ew.vec4 ? '/vec4' : ''), body: ew.body, totalInvocations: ew.invocations })] };
  }
  const rows = rowVec4(b, shapes, operands, Y, n, value, finish);
  if (rows) return { kind: 'programs', programs: [b.build({ label: label('/vec4-rows'), body: rows.body, totalInvocations: rows.invocations })] };
  const same = (v: TensorVar): boolean => v.size === Y.size;
  const lines = [`  if (global_idx >= ${n}) { return; }`];
  if (!vars.every(same)) lines.push(`  let idx = ${Y.offsetToIndices('global_idx')};`);
  operands.forEach((o) => {
    const load = o.tensor.get(same(o.tensor) ? 'global_idx' : o.tensor.broadcastedOffset(Y, 'idx'));
    lines.push(`  let ${o.name} = ${o.wrap ? o.wrap(load) : load};`);
  });
  lines.push(`  ${Y.set('global_idx', finish ? finish.scalar(value) : value)}`);
  return { kind: 'programs', programs: [b.build({ label: label(''), body: lines.join('\n'), totalInvocations: Y.size })] };
};

/**
 * Registers the program as `kiln_fused(in0, in1, ...) -> f32` (float32 operands and Cast sources as
 * f32, Where conditions in their storage type) returning `result` (default: the last step's value) and
 * returns its call over the names in0, in1, ...
 */
function programHelper(b: ShaderBuilder, program: Program, vars: readonly TensorVar[], result = `s${program.steps.length - 1}`): string {
  const params = vars.map((v, i) => `in${i}: ${program.roles[i] === 'cond' ? v.type : 'f32'}`);
  const body = programWgsl(b, program, 'k');
  b.helper('kiln_fused', [`fn kiln_fused(${params.join(', ')}) -> f32 {`, ...body, `  return ${result};`, '}'].join('\n'));
  return `kiln_fused(${vars.map((_, i) => `in${i}`).join(', ')})`;
}

/**
 * A WGSL helper applying a producer's epilogue (epilogue.ts) to the f32 expression `x`; returns the
 * call. `extras` are WGSL f32 expressions for the inputs i1..iE (epilogueLoads), in order.
 */
export function wgslEpilogue(b: ShaderBuilder, p: Program, x: string, extras: readonly string[] = [], base = 'kiln_epilogue', fast = false): string {
  // `fast`: a twin helper whose quantization steps flag instead of dividing exactly (stepWgsl)
  const fn = fast ? `${base}_fast` : base;
  // once per program: a kernel that stores (or loads) in several places calls it for each
  if (b.hasHelper(fn)) return `${fn}(${[x, ...extras].join(', ')})`;
  const body = programWgsl(b, p, base === 'kiln_epilogue' ? 'epi_k' : `${base}_k`, fast);
  const params = ['v: f32', ...extras.map((_, k) => `e${k + 1}: f32`)].join(', ');
  const lets = ['  let in0 = v;', ...extras.map((_, k) => `  let in${k + 1} = e${k + 1};`)];
  b.helper(fn, [`fn ${fn}(${params}) -> f32 {`, ...lets, ...body, `  return s${p.steps.length - 1};`, '}'].join('\n'));
  return `${fn}(${[x, ...extras].join(', ')})`;
}

/** A load prologue (epilogue.ts prologueOf) on the f32 expression `x`: its own helper and constants beside an epilogue's. */
export function wgslPrologue(b: ShaderBuilder, p: Program, x: string): string {
  return wgslEpilogue(b, p, x, [], 'kiln_prologue');
}

/**
 * Binds the extra epilogue tensors (node inputs from EPILOGUE_SLOT) and returns, per tensor, the
 * WGSL f32 load of its element for the output element at flat offset `offset` of an output of
 * shape `outDims`: the same offset when the shapes are equal, else a broadcast map (dims baked in).
 */
export function epilogueLoads(b: ShaderBuilder, extras: readonly TensorMeta[], outDims: readonly number[], offset: string): string[] {
  return extras.map((m, k) => {
    const E = b.input(`EPI${k + 1}`, m.dims.length ? m : { ...m, dims: [1] }, EPILOGUE_SLOT + k);
    if (m.dims.length === outDims.length && m.dims.every((d, i) => d === outDims[i])) return E.get(offset);
    const rank = outDims.length;
    const shift = rank - m.dims.length;
    const terms: string[] = [];
    let outStride = 1, inStride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const inDim = d - shift >= 0 ? m.dims[d - shift]! : 1;
      if (inDim !== 1) terms.push(`((o / ${outStride}u) % ${outDims[d]}u) * ${inStride}u`);
      outStride *= outDims[d]!;
      inStride *= inDim;
    }
    b.helper(`epi${k + 1}_at`, `fn epi${k + 1}_at(o: u32) -> u32 { return ${terms.join(' + ') || '0u'}; }`);
    return E.get(`epi${k + 1}_at(${offset})`);
  });
}

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'FusedElementwise')]: fused };
