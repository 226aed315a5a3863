import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { sameDims } from '../common/shape.ts';
import { coalesceBroadcast } from '../webgpu/coalesce-broadcast.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { wgslWrap } from '../webgpu/wrap.ts';
import { BINARY_SPECS, POW_HELPER, modHelper, type BinarySpec } from './binary-math.ts';

/** One elementwise program over the output; operands of the output's shape skip the index math. */
function lowering(spec: BinarySpec): WebGpuKernel {
  return (inputs, outputs, ctx) => {
    const out = outputs[0]!;
    const b = new ShaderBuilder(ctx.caps);
    const bDims = spec.alignB ? spec.alignB(inputs[0]!, inputs[1]!, ctx) : inputs[1]!.dims;
    // shapes with mergeable axes merged: the flat layouts are unchanged, the index math shrinks
    const shapes = coalesceBroadcast(out.dims, [inputs[0]!.dims, bDims]);
    const aMeta = { ...inputs[0]!, dims: shapes.operands[0]! };
    const bMeta = { ...inputs[1]!, dims: shapes.operands[1]! };
    const A = b.input('A', aMeta, 0);
    const B = b.input('B', bMeta, 1);
    const Y = b.output('Y', { dtype: out.dtype, dims: shapes.out });
    const n = b.uniform('n', 'u32', A.size > 0 ? Y.size : 0);
    const ct = A.type; // compute type
    const mode = spec.mode?.(ctx) ?? '';
    if (spec.opType === 'Pow') b.helper('kiln_pow', POW_HELPER);
    if (spec.opType === 'Mod') b.helper(`kiln_mod_${ct}`, modHelper(ct));
    const same = (m: TensorMeta): boolean => sameDims(m.dims, shapes.out);
    // One pipeline serves every shape of a rank; the equal-shape case skips index math entirely.
    const sameA = same(aMeta);
    const sameB = same(bMeta);
    const needIdx = !sameA || !sameB;
    const value = spec.comparison ? `select(0u, 1u, ${spec.wgsl(ct, mode)})` : spec.wraps ? wgslWrap(out.dtype, spec.wgsl(ct, mode)) : spec.wgsl(ct, mode);
    // Same-shape operands and one-element ones: the builder's elementwise form (vec4 when it can).
    if ((sameA || A.size === 1) && (sameB || B.size === 1) && A.size > 0 && B.size > 0) {
      const cast = (v: string): string => `${ct}(${v})`;
      const ew = b.elementwise({ out: Y, count: Y.size, operands: [{ name: 'a', tensor: A, wrap: cast }, { name: 'b', tensor: B, wrap: cast }], value, countUniform: n });
      return { kind: 'programs', programs: [b.build({ label: `${spec.opType}${ew.vec4 ? '/vec4' : ''}:${ctx.node}`, body: ew.body, totalInvocations: ew.invocations })] };
    }
    const rows = rowVec4(b, shapes, [A, B], Y, n, value, ct);
    if (rows) return { kind: 'programs', programs: [b.build({ label: `${spec.opType}/vec4-rows:${ctx.node}`, body: rows.body, totalInvocations: rows.invocations })] };
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      needIdx ? `  let idx = ${Y.offsetToIndices('global_idx')};` : '',
      `  let a = ${ct}(${A.get(sameA ? 'global_idx' : A.broadcastedOffset(Y, 'idx'))});`,
      `  let b = ${ct}(${B.get(sameB ? 'global_idx' : B.broadcastedOffset(Y, 'idx'))});`,
      `  ${Y.set('global_idx', value)}`,
    ].join('\n');
    return { kind: 'programs', programs: [b.build({ label: `${spec.opType}:${ctx.node}`, body, totalInvocations: Y.size })] };
  };
}

/**
 * A broadcast whose innermost (merged) axis is a multiple of 4 and where each operand either spans it
 * or is one value along it (a squeeze-excite Mul [C, H*W] x [C, 1], a bias Add [M, N] x [N]): four
 * output elements per invocation, with the index math done once for the four. Operands that span the
 * axis load one aligned vec4 (their offset for the first of four is a multiple of 4); the others load
 * one value for all four lanes. SwiftShader pays per instruction, so a quarter of the divisions and
 * loads (replayed on SwiftShader, PaddleOCR cls's nine squeeze-excite Muls 6.2-9.0 -> 2.4 ms).
 * Else (tails, packed types) the scalar broadcast.
 */
function rowVec4(b: ShaderBuilder, shapes: { out: number[]; operands: number[][] }, ops: readonly TensorVar[], Y: TensorVar, n: string, value: string, ct: string): { body: string; invocations: number } | undefined {
  const inner = shapes.out[shapes.out.length - 1]!;
  const lastOf = (d: readonly number[]): number => (d.length === shapes.out.length ? d[d.length - 1]! : 1);
  if (inner % 4 !== 0 || Y.size === 0 || Y.packedPerWord || ops.some((o) => o.packedPerWord || o.size === 0)) return undefined;
  const spans = shapes.operands.map((d) => lastOf(d) === inner);
  if (shapes.operands.some((d) => lastOf(d) !== inner && lastOf(d) !== 1)) return undefined;
  b.declareVec4(Y.name);
  const names = ['a', 'b'];
  const lines = [`  if (global_idx >= (${n} >> 2u)) { return; }`, `  let idx = ${Y.offsetToIndices('global_idx * 4u')};`];
  ops.forEach((o, k) => {
    if (spans[k]) {
      b.declareVec4(o.name);
      lines.push(`  let ${names[k]}_v4 = ${o.name}[${o.size === Y.size ? 'global_idx' : `${o.broadcastedOffset(Y, 'idx')} >> 2u`}];`);
    } else lines.push(`  let ${names[k]}_s = ${ct}(${o.get(o.broadcastedOffset(Y, 'idx'))});`);
  });
  lines.push(`  var kiln_r: vec4<${Y.type}>;`);
  for (let l = 0; l < 4; l++) {
    const lets = ops.map((_, k) => `let ${names[k]} = ${spans[k] ? `${ct}(${names[k]}_v4[${l}])` : `${names[k]}_s`};`).join(' ');
    lines.push(`  { ${lets} kiln_r[${l}] = ${value}; }`);
  }
  lines.push(`  ${Y.name}[global_idx] = kiln_r;`);
  return { body: lines.join('\n'), invocations: Y.size / 4 };
}

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(BINARY_SPECS.map((s) => [opKey('', s.opType), lowering(s)]));
