import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslQLinearAddRound, wgslQuantParam } from '../webgpu/quant-wgsl.ts';
import { sameDims } from '../common/shape.ts';
import { coalesceBroadcast } from '../webgpu/coalesce-broadcast.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { A, AS, AZ, B, BS, BZ, CS, CZ, qlinearBinaryPlan } from './op.ts';

/**
 * QLinearAdd per output element with the reference's float32 steps (op.ts). WGSL's f32 `*`, `+`
 * are correctly rounded and `round` is half-to-even; its `/` is not exact, so the division goes
 * through the exact helper, as QuantizeLinear's does.
 */
const qlinearAdd: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = qlinearBinaryPlan(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  // shapes with axes that broadcast alike merged (flat layouts unchanged): a residual add's equal
  // shapes become one axis read at the output offset, a per-channel operand two
  const shapes = coalesceBroadcast(p.out.dims, [inputs[A]!.dims, inputs[B]!.dims]);
  const Y = b.output('Y', { ...outputs[0]!, dims: shapes.out });
  const Av = b.input('A', { ...inputs[A]!, dims: shapes.operands[0]! }, A);
  const Bv = b.input('B', { ...inputs[B]!, dims: shapes.operands[1]! }, B);
  // a constant parameter is a uniform (one per dispatch), a fed one a storage load per element
  const param = (slot: number, name: string, fallback: string): string => {
    const meta = inputs[slot];
    return meta ? wgslQuantParam(b, name, ctx.constants?.[slot], () => b.input(name, gpuMeta(meta), slot))('0u') : fallback;
  };
  const [sa, za, sb, zb, sc, zc] = [param(AS, 'AS', '1.0'), param(AZ, 'AZ', '0.0'), param(BS, 'BS', '1.0'), param(BZ, 'BZ', '0.0'), param(CS, 'CS', '1.0'), param(CZ, 'CZ', '0.0')];
  const n = p.out.dims.reduce((x, y) => x * y, 1);
  const total = b.uniform('n', 'u32', n);
  // an operand of the output's shape is read at the output offset: no index math
  const same = shapes.operands.map((dims) => sameDims(dims, shapes.out));
  const direct = same.every(Boolean);
  const at = (v: TensorVar, k: number): string => v.get(same[k] ? 'global_idx' : v.broadcastedOffset(Y, 'idx'));
  const body = [
    `  if (global_idx >= ${total}) { return; }`,
    ...(direct ? [] : [`  let idx = ${Y.offsetToIndices('global_idx')};`]),
    `  let va = ${sa} * (f32(${at(Av, 0)}) - ${za});`,
    `  let vb = ${sb} * (f32(${at(Bv, 1)}) - ${zb});`,
    `  let zc = ${zc};`,
    ...wgslQLinearAddRound(b, 'va', 'vb', sc, 'zc', p.range, 'c').map((l) => `  ${l}`),
    `  ${Y.set('global_idx', `${Y.type}(c)`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `QLinearAdd:${ctx.node}`, body, totalInvocations: n })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('com.microsoft', 'QLinearAdd')]: qlinearAdd };
