import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, FLOAT_TYPES, NUMERIC_TYPES, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/** Sum, Mean, Max, Min over n >= 1 inputs, numpy-broadcast together (opset 8+; earlier opsets are a subset). */
interface VariadicSpec {
  readonly opType: string;
  readonly types: readonly DataType[];
  readonly cpu: (acc: number, v: number) => number;
  /** WGSL combining `acc` and `v` */
  readonly wgsl: string;
  /** divide by n at the end */
  readonly mean?: boolean;
}

// NaN propagates as in numpy.maximum/minimum (Math.max already does).
const SPECS: readonly VariadicSpec[] = [
  { opType: 'Sum', types: FLOAT_TYPES, cpu: (a, v) => a + v, wgsl: 'acc + v' },
  { opType: 'Mean', types: FLOAT_TYPES, cpu: (a, v) => a + v, wgsl: 'acc + v', mean: true },
  { opType: 'Max', types: NUMERIC_TYPES, cpu: Math.max, wgsl: 'max(acc, v)' },
  { opType: 'Min', types: NUMERIC_TYPES, cpu: Math.min, wgsl: 'min(acc, v)' },
];

// A storage buffer per input plus the output must fit the default per-stage limit of 8 bindings.
const MAX_GPU_INPUTS = 7;

function makeKernel(spec: VariadicSpec): LegacyOpKernel {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    if (inputs.length === 0 || inputs.some((m) => !m)) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} needs one or more inputs, none missing`);
    const metas = inputs as readonly TensorMeta[];
    for (const m of metas) {
      requireType(m, spec.types, ctx);
      if (m.dtype !== metas[0]!.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} inputs have different types (${metas[0]!.dtype}, ${m.dtype})`);
    }
    return [{ dtype: metas[0]!.dtype, dims: broadcastShapes(metas.map((m) => m.dims), ctx) }];
  };
  return {
    opType: spec.opType,
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const ts = inputs as readonly AnyTensor[];
      const out = infer(ts.map(metaOf), ctx)[0]!;
      const size = out.dims.reduce((a, d) => a * d, 1);
      const acc = new Float64Array(size);
      ts.forEach((t, k) => {
        const v = toNumbers(t);
        const map = broadcastIndexMap(out.dims, t.dims);
        if (k === 0) for (let i = 0; i < size; i++) acc[i] = v[map ? map[i]! : i]!;
        else for (let i = 0; i < size; i++) acc[i] = spec.cpu(acc[i]!, v[map ? map[i]! : i]!);
      });
      if (spec.mean) for (let i = 0; i < size; i++) acc[i] = acc[i]! / ts.length;
      return [fromNumbers(out.dtype, out.dims, acc)];
    },
    webgpu(inputs, outputs, ctx) {
      if (inputs.length > MAX_GPU_INPUTS) return undefined;
      const out = outputs[0]!;
      const b = new ShaderBuilder(ctx.caps);
      const vars = inputs.map((m, i) => b.input(`X${i}`, m!, i));
      const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
      const n = b.uniform('n', 'u32', Y.size);
      const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
      const at = (i: number): string => vars[i]!.get(same(inputs[i]!) ? 'global_idx' : vars[i]!.broadcastedOffset(Y, 'idx'));
      const lines = [`  if (global_idx >= ${n}) { return; }`];
      if (!inputs.every((m) => same(m!))) lines.push(`  let idx = ${Y.offsetToIndices('global_idx')};`);
      lines.push(`  var acc = ${at(0)};`);
      for (let i = 1; i < inputs.length; i++) lines.push(`  { let v = ${at(i)}; acc = ${spec.wgsl}; }`);
      if (spec.mean) lines.push(`  acc = acc / ${inputs.length}.0;`);
      lines.push(`  ${Y.set('global_idx', 'acc')}`);
      return { kind: 'programs', programs: [b.build({ label: `${spec.opType}:${ctx.node}`, body: lines.join('\n'), totalInvocations: Y.size })] };
    },
  };
}

export const kernels: readonly LegacyOpKernel[] = SPECS.map(makeKernel);
