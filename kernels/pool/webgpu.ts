import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslLowest } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder, stridesOf } from '../webgpu/shader-builder.ts';
import { reduceGpu } from '../reduce/webgpu.ts';
import { unaryEpilogueOf } from '../fused-elementwise/epilogue.ts';
import { countRange, GLOBAL_POOLS, POOL_KINDS, setupGlobal, setupPool, type PoolKind } from './op.ts';

/** One invocation per output position, looping over its window. */
function poolLowering(op: PoolKind): WebGpuKernel {
  return (inputs, outputs, ctx) => {
    const { x, g } = setupPool(inputs, ctx, op);
    const outSize = g.nc * product(g.outDims);
    if (outSize === 0 || product(x.dims) === 0) return undefined;
    const s = g.inDims.length;
    const b = new ShaderBuilder(ctx.caps);
    const X = b.input('X', x, 0);
    const Y = b.output('Y', outputs[0]!, 0);
    const indMeta = outputs[1];
    const I = op === 'MaxPool' && indMeta && product(indMeta.dims) > 0 ? b.output('I', indMeta, 1) : undefined;
    const n = b.uniform('n', 'u32', outSize);
    // The window's geometry is baked into the WGSL as literals: constant loop bounds and divisors
    // (SwiftShader unrolls the taps and turns the index math into multiplies; with uniform reads in the
    // tap loop PaddleOCR cls's MaxPool replayed at 2.2-16.1 ms, baked 0.9). A model has few pool geometries.
    const lit = (values: readonly number[], t: 'u' | 'i') => (d: number): string => `${values[d]}${t}`;
    const inD = lit(g.inDims, 'u');
    const outD = lit(g.outDims, 'u');
    const inS = lit(stridesOf(g.inDims), 'u');
    const k = lit(g.kernel, 'u');
    const st = lit(g.strides, 'u');
    const dl = lit(g.dilations, 'u');
    const pb = lit(g.padBegin, 'i');
    const inSize = `${product(g.inDims)}u`;
    const pos = (d: number): string => `i32(o${d} * ${st(d)} + k${d} * ${dl(d)}) - ${pb(d)}`;
    const lines = [`  if (global_idx >= ${n}) { return; }`, '  var rest = global_idx;'];
    for (let d = s - 1; d >= 0; d--) lines.push(`  let o${d} = rest % ${outD(d)};`, `  rest = rest / ${outD(d)};`);
    lines.push(`  let base = rest * ${inSize};`);
    const ct = op === 'MaxPool' ? X.type : 'f32';
    if (op === 'MaxPool') lines.push(`  var best = ${wgslLowest(b, X.type)};`, '  var best_at = 0u;', '  var found = false;');
    else lines.push('  var acc = 0.0;');
    let p = '';
    if (op === 'AveragePool') {
      // the divisor is separable: a product of per-axis tap counts
      const { lo, hi } = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
      const loA = lit(lo, 'i');
      const hiA = lit(hi, 'i');
      lines.push('  var divisor = 1.0;');
      for (let d = 0; d < s; d++) {
        lines.push(`  { var c = 0.0; for (var k${d} = 0u; k${d} < ${k(d)}; k${d}++) { let p = ${pos(d)}; if (p >= ${loA(d)} && p < ${hiA(d)}) { c += 1.0; } } divisor *= c; }`);
      }
    } else if (op === 'LpPool') p = b.uniform('lp_p', 'f32', ctx.attrs.float('p', 2));
    const ix = lit(ctx.attrs.int('storage_order', 0) !== 0 ? g.inDims.map((_, i) => product(g.inDims, 0, i)) : stridesOf(g.inDims), 'u');
    let indent = '  ';
    for (let d = 0; d < s; d++) {
      lines.push(`${indent}for (var k${d} = 0u; k${d} < ${k(d)}; k${d}++) {`);
      indent += '  ';
      lines.push(`${indent}let p${d} = ${pos(d)};`, `${indent}if (p${d} < 0 || p${d} >= i32(${inD(d)})) { continue; }`);
    }
    const off = Array.from({ length: s }, (_, d) => `u32(p${d}) * ${inS(d)}`).join(' + ');
    lines.push(`${indent}let v = ${ct}(${X.get(`base + ${off}`)});`);
    if (op === 'MaxPool') {
      const at = I ? `base + ${Array.from({ length: s }, (_, d) => `u32(p${d}) * ${ix(d)}`).join(' + ')}` : '0u';
      lines.push(`${indent}if (v > best || !found) { best = v; best_at = ${at}; found = true; }`);
    } else lines.push(`${indent}acc += ${op === 'LpPool' ? `pow(abs(v), ${p})` : 'v'};`);
    for (let d = s - 1; d >= 0; d--) {
      indent = indent.slice(2);
      lines.push(`${indent}}`);
    }
    if (op === 'MaxPool') {
      lines.push(`  ${Y.set('global_idx', 'best')}`);
      if (I) lines.push(`  ${I.set('global_idx', 'i32(best_at)')}`);
    } else lines.push(`  ${Y.set('global_idx', op === 'LpPool' ? `pow(acc, 1.0 / ${p})` : 'acc / divisor')}`);
    return { kind: 'programs', programs: [b.build({ label: `${op}:${ctx.node}`, body: lines.join('\n'), totalInvocations: outSize })] };
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = {
  ...Object.fromEntries(POOL_KINDS.map((op) => [opKey('', op), poolLowering(op)])),
  ...Object.fromEntries(
    GLOBAL_POOLS.map(({ opType, reduce, types }) => {
      const kernel: WebGpuKernel = (inputs, outputs, ctx) => {
        const { x, axes } = setupGlobal(opType, types, inputs, ctx);
        return reduceGpu(reduce, x, outputs[0]!, axes, ctx, unaryEpilogueOf(ctx.attrs, ctx.node));
      };
      return [opKey('', opType), kernel];
    }),
  ),
};
