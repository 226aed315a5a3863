import { product } from '../common/shape.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { tiledMatmulProgram } from '../webgpu/tiled-matmul.ts';
import { einsumAsMatmul } from './as-matmul.ts';
import { einsumPlan, labelStrides } from './op.ts';

/**
 * Matrix-product equations (kernels/einsum/as-matmul.ts) run as one tiled GEMM program reading the
 * inputs through their strides. Every other equation: one invocation per output element, looping over every assignment of the summed labels. The
 * equation's structure (which label feeds which input) is baked into the WGSL; label sizes and
 * strides travel as uniforms, so one pipeline serves an equation at every shape. f32 inputs
 * accumulate in f32, integer ones in 32-bit integers (wrapping as onnxruntime's int32 does).
 */
const einsum: WebGpuKernel = (inputs, outputs, ctx): GpuLowering | undefined => {
  const metas = inputs as readonly TensorMeta[];
  const { plan } = einsumPlan(metas, ctx);
  const out = outputs[0]!;
  const total = product(out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const strides = labelStrides(plan, metas.map((m) => m.dims));
  const mm = metas[0]!.dtype === 'float32' || metas[0]!.dtype === 'float16' ? einsumAsMatmul(plan, strides) : undefined;
  if (mm) {
    const program = tiledMatmulProgram(
      {
        label: `Einsum-MatMul:${ctx.node}`,
        M: mm.M,
        N: mm.N,
        K: mm.K,
        batchDims: mm.batchDims,
        a: { meta: metas[mm.aSlot]!, slot: mm.aSlot, ...mm.a },
        b: { meta: metas[1 - mm.aSlot]!, slot: 1 - mm.aSlot, ...mm.b },
        out,
      },
      ctx.caps,
    );
    return { kind: 'programs', programs: [program] };
  }
  const b = new ShaderBuilder(ctx.caps);
  const X = metas.map((m, i) => b.input(`X${i}`, m.dims.length ? m : { ...m, dims: [1] }, i));
  const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
  const n = b.uniform('n', 'u32', total);
  const labels = [...plan.output, ...plan.reduced];
  const name = (l: number): string => `l${l}`;
  const size = new Map(labels.map((l) => [l, b.uniform(`size_${l}`, 'u32', plan.sizes.get(l)!)]));
  const stride = strides.map((m, i) => new Map([...m].map(([l, s]) => [l, b.uniform(`stride_${i}_${l}`, 'u32', s)])));
  const reducedCount = product(plan.reduced.map((l) => plan.sizes.get(l)!));
  const rc = b.uniform('reduced_count', 'u32', reducedCount);
  const decode = (order: readonly number[], flat: string, indent: string): string[] => {
    const lines = [`${indent}var rest_${flat} = ${flat};`];
    for (let i = order.length - 1; i >= 0; i--) {
      const l = order[i]!;
      lines.push(`${indent}let ${name(l)} = rest_${flat} % ${size.get(l)!};`, `${indent}rest_${flat} = rest_${flat} / ${size.get(l)!};`);
    }
    return lines;
  };
  const product_ = X.map((x, i) => {
    const terms = [...stride[i]!].map(([l, s]) => `${name(l)} * ${s}`);
    return x.get(terms.join(' + ') || '0u');
  }).join(' * ');
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    ...decode(plan.output, 'global_idx', '  '),
    `  var sum = ${Y.type}(0);`,
    `  for (var r = 0u; r < ${rc}; r++) {`,
    ...decode(plan.reduced, 'r', '    '),
    `    sum += ${product_};`,
    '  }',
    `  ${Y.set('global_idx', 'sum')}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `Einsum:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Einsum')]: einsum };
