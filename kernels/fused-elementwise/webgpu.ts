import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { POW_HELPER } from '../elementwise-binary/binary-math.ts';
import { CLIP_MATH, wgslNanPassThrough, wgslUnaryExpr } from '../elementwise-unary/unary-math.ts';
import { wgslQuantRound } from '../webgpu/quant-round-wgsl.ts';
import { EPILOGUE_SLOT } from './epilogue.ts';
import { inferFused } from './op.ts';
import { MAX_FUSED_INPUTS, type Program, type Ref, type Step } from './program.ts';


/** `k` names the uniform accessor of the program's constants. */
const refExpr = (r: Ref, k: string): string => (r.kind === 'i' ? `in${r.index}` : r.kind === 's' ? `s${r.index}` : `${k}(${r.index}u)`);

/** One step as WGSL statements assigning `s<n>`; each op's expression comes from its table (NaN rules included). */
function stepWgsl(b: ShaderBuilder, step: Step, n: number, k: string): string {
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
      return `  let s${n} = f32(i32(clamp(${wgslQuantRound(b, 'float32')}(${a0}, ${s}) + ${z}, ${lo}, ${hi})) - i32(${z})) * ${s};`;
    }
  }
}

/** The program's steps as WGSL statements over `in<n>` (declared by the caller), result in `s<last>`. */
export function programWgsl(b: ShaderBuilder, program: Program, k: string): string[] {
  if (program.constants.length > 0) b.uniformArray(k, 'f32', program.constants);
  return program.steps.map((s, i) => stepWgsl(b, s, i, k));
}

/**
 * One shader for the whole program: each input loaded once per output element (through its
 * broadcast index map unless it has the output's shape), the steps in order, one store. The WGSL
 * depends on the program's structure, ranks and which inputs broadcast; constants are uniforms,
 * so every recurring chain of a model (PaddleOCR's Mul-Add-HardSwish-Mul-Add) shares one pipeline.
 */
const fused: WebGpuKernel = (inputs, outputs, ctx) => {
  if (inputs.length > MAX_FUSED_INPUTS) return undefined;
  const { program } = inferFused(inputs, ctx);
  const out = outputs[0]!;
  const b = new ShaderBuilder(ctx.caps);
  const vars = inputs.map((m, i) => b.input(`I${i}`, m!, i));
  const Y = b.output('Y', { dtype: 'float32', dims: out.dims.length ? out.dims : [1] });
  const n = b.uniform('n', 'u32', Y.size);
  const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
  const broadcasts = inputs.map((m) => !same(m!));
  const lines = [`  if (global_idx >= ${n}) { return; }`];
  if (broadcasts.some(Boolean)) lines.push(`  let idx = ${Y.offsetToIndices('global_idx')};`);
  vars.forEach((v, i) => {
    const load = v.get(broadcasts[i] ? v.broadcastedOffset(Y, 'idx') : 'global_idx');
    lines.push(`  let in${i} = ${program.roles[i] === 'cast' ? `f32(${load})` : load};`);
  });
  lines.push(...programWgsl(b, program, 'k'));
  lines.push(`  ${Y.set('global_idx', `s${program.steps.length - 1}`)}`);
  const label = `FusedElementwise(${program.steps.map((s) => s.op).join(',')}):${ctx.node}`;
  return { kind: 'programs', programs: [b.build({ label, body: lines.join('\n'), totalInvocations: Y.size })] };
};

/**
 * A WGSL helper applying a producer's epilogue (epilogue.ts) to the f32 expression `x`; returns the
 * call. `extras` are WGSL f32 expressions for the inputs i1..iE (epilogueLoads), in order.
 */
export function wgslEpilogue(b: ShaderBuilder, p: Program, x: string, extras: readonly string[] = [], fn = 'kiln_epilogue'): string {
  // once per program: a kernel that stores (or loads) in several places calls it for each
  if (b.hasHelper(fn)) return `${fn}(${[x, ...extras].join(', ')})`;
  const body = programWgsl(b, p, fn === 'kiln_epilogue' ? 'epi_k' : `${fn}_k`);
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
