import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslDivExact } from '../webgpu/quant-wgsl.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { A, AS, AZ, B, BS, BZ, CS, CZ, qlinearBinaryPlan } from './op.ts';

/**
 * QLinearAdd per output element with the reference's float32 steps (op.ts). WGSL's f32 `*`, `+`
 * are correctly rounded and `round` is half-to-even; its `/` is not exact, so the division goes
 * through the exact helper, as QuantizeLinear's does.
 */
const qlinearAdd: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = qlinearBinaryPlan(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const Y = b.output('Y', gpuMeta(outputs[0]!));
  const Av = b.input('A', gpuMeta(inputs[A]!), A);
  const Bv = b.input('B', gpuMeta(inputs[B]!), B);
  const param = (slot: number, name: string, fallback: string): string => {
    const meta = inputs[slot];
    return meta ? `f32(${b.input(name, gpuMeta(meta), slot).get('0u')})` : fallback;
  };
  const [sa, za, sb, zb, sc, zc] = [param(AS, 'AS', '1.0'), param(AZ, 'AZ', '0.0'), param(BS, 'BS', '1.0'), param(BZ, 'BZ', '0.0'), param(CS, 'CS', '1.0'), param(CZ, 'CZ', '0.0')];
  const n = p.out.dims.reduce((x, y) => x * y, 1);
  const total = b.uniform('n', 'u32', n);
  const div = wgslDivExact(b);
  const body = [
    `  if (global_idx >= ${total}) { return; }`,
    `  let idx = ${Y.offsetToIndices('global_idx')};`,
    `  let va = ${sa} * (f32(${Av.get(Av.broadcastedOffset(Y, 'idx'))}) - ${za});`,
    `  let vb = ${sb} * (f32(${Bv.get(Bv.broadcastedOffset(Y, 'idx'))}) - ${zb});`,
    `  let zc = ${zc};`,
    `  let v = clamp(${div}(va + vb, ${sc}), ${p.range[0]}.0 - zc, ${p.range[1]}.0 - zc);`,
    `  ${Y.set('global_idx', `${Y.type}(i32(round(v + zc)))`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `QLinearAdd:${ctx.node}`, body, totalInvocations: n })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('com.microsoft', 'QLinearAdd')]: qlinearAdd };
