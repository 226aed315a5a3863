import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';

/** Where as one elementwise program over the output. */
const where: WebGpuKernel = (inputs, outputs, ctx) => {
  const out = outputs[0]!;
  const b = new ShaderBuilder(ctx.caps);
  const C = b.input('C', inputs[0]!, 0);
  const X = b.input('X', inputs[1]!, 1);
  const Y = b.input('Y', inputs[2]!, 2);
  const O = b.output('O', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
  const n = b.uniform('n', 'u32', O.size);
  const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
  const metas = [inputs[0]!, inputs[1]!, inputs[2]!];
  const vars = [C, X, Y];
  // same-shape and one-element operands: the builder's elementwise form (vec4 when it can)
  if (O.size > 0 && vars.every((v, i) => same(metas[i]!) || v.size === 1)) {
    const operands = [{ name: 'c', tensor: C }, { name: 'x', tensor: X }, { name: 'y', tensor: Y }];
    const ew = b.elementwise({ out: O, count: O.size, operands, value: 'select(y, x, c != 0u)', countUniform: n });
    return { kind: 'programs', programs: [b.build({ label: `Where${ew.vec4 ? '/vec4' : ''}:${ctx.node}`, body: ew.body, totalInvocations: ew.invocations })] };
  }
  const needIdx = !metas.every(same);
  // equal-shape operands read at global_idx; others through the broadcast helper (rank-generic)
  const at = (v: TensorVar, m: TensorMeta): string => v.get(same(m) ? 'global_idx' : v.broadcastedOffset(O, 'idx'));
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    needIdx ? `  let idx = ${O.offsetToIndices('global_idx')};` : '',
    `  ${O.set('global_idx', `select(${at(Y, metas[2]!)}, ${at(X, metas[1]!)}, ${at(C, metas[0]!)} != 0u)`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `Where:${ctx.node}`, body, totalInvocations: O.size })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Where')]: where };
