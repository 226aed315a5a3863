import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { sameDims } from '../common/shape.ts';
import { coalesceBroadcast } from '../webgpu/coalesce-broadcast.ts';
import { rowVec4 } from '../webgpu/row-vec4.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
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
    const cast = (v: string): string => `${ct}(${v})`;
    const operands = [{ name: 'a', tensor: A, wrap: cast }, { name: 'b', tensor: B, wrap: cast }];
    // Same-shape operands and one-element ones: the builder's elementwise form (vec4 when it can).
    if ((sameA || A.size === 1) && (sameB || B.size === 1) && A.size > 0 && B.size > 0) {
      const ew = b.elementwise({ out: Y, count: Y.size, operands, value, countUniform: n });
      return { kind: 'programs', programs: [b.build({ label: `${spec.opType}${ew.vec4 ? '/vec4' : ''}:${ctx.node}`, body: ew.body, totalInvocations: ew.invocations })] };
    }
    const rows = rowVec4(b, shapes, operands, Y, n, value);
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

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(BINARY_SPECS.map((s) => [opKey('', s.opType), lowering(s)]));
