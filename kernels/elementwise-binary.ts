import type { AnyTensor } from '../runtime/api/tensor.ts';
import type { DataType } from '../runtime/core/dtype.ts';
import { fail } from '../runtime/core/errors.ts';
import { broadcastIndexMap, broadcastShapes, NUMERIC_TYPES, requireInput, requireType } from './common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from './common/values.ts';
import { ShaderBuilder } from './shader/builder.ts';
import type { KernelContext, MaybeMeta, OpKernel, TensorMeta } from './types.ts';

/** Broadcasting binary ops: arithmetic (output keeps the input type) and comparisons (output bool). */
interface BinarySpec {
  readonly opType: string;
  readonly types: readonly DataType[];
  readonly comparison?: boolean;
  /** the second input may have a different type (Pow's exponent) */
  readonly mixedTypes?: boolean;
  readonly cpu: (a: number, b: number, integer: boolean) => number;
  /** WGSL expression over `a`, `b` (already in the compute type `T`) */
  readonly wgsl: (type: string) => string;
}

const INT_DIV = (a: number, b: number, integer: boolean): number => (integer ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b);

// ONNX Pow: a negative base with an integral exponent is defined; WGSL pow() is not for x < 0.
const POW_HELPER = `fn kiln_pow(a: f32, b: f32) -> f32 {
  if (a >= 0.0 || b != floor(b)) { return pow(a, b); }
  let m = pow(-a, b);
  return select(m, -m, (i32(b) & 1) == 1);
}`;

const SPECS: readonly BinarySpec[] = [
  { opType: 'Add', types: NUMERIC_TYPES, cpu: (a, b) => a + b, wgsl: () => 'a + b' },
  { opType: 'Sub', types: NUMERIC_TYPES, cpu: (a, b) => a - b, wgsl: () => 'a - b' },
  { opType: 'Mul', types: NUMERIC_TYPES, cpu: (a, b) => a * b, wgsl: () => 'a * b' },
  { opType: 'Div', types: NUMERIC_TYPES, cpu: INT_DIV, wgsl: (t) => (t === 'f32' ? 'a / b' : `select(a / b, ${t}(0), b == ${t}(0))`) },
  { opType: 'Pow', types: NUMERIC_TYPES, mixedTypes: true, cpu: (a, b) => Math.pow(a, b), wgsl: (t) => (t === 'f32' ? 'kiln_pow(a, b)' : `${t}(round(kiln_pow(f32(a), f32(b))))`) },
  { opType: 'Equal', types: [...NUMERIC_TYPES, 'bool'], comparison: true, cpu: (a, b) => +(a === b), wgsl: () => 'a == b' },
  { opType: 'Less', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a < b), wgsl: () => 'a < b' },
  { opType: 'LessOrEqual', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a <= b), wgsl: () => 'a <= b' },
  { opType: 'Greater', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a > b), wgsl: () => 'a > b' },
  { opType: 'GreaterOrEqual', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a >= b), wgsl: () => 'a >= b' },
  { opType: 'And', types: ['bool'], comparison: true, cpu: (a, b) => +(a !== 0 && b !== 0), wgsl: () => '(a != 0u) && (b != 0u)' },
  { opType: 'Or', types: ['bool'], comparison: true, cpu: (a, b) => +(a !== 0 || b !== 0), wgsl: () => '(a != 0u) || (b != 0u)' },
  { opType: 'Xor', types: ['bool'], comparison: true, cpu: (a, b) => +((a !== 0) !== (b !== 0)), wgsl: () => '(a != 0u) != (b != 0u)' },
];

function isIntegral(t: DataType): boolean {
  return t !== 'float32' && t !== 'float16' && t !== 'float64';
}

function makeKernel(spec: BinarySpec): OpKernel {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    const a = requireInput(inputs, 0, ctx);
    const b = requireInput(inputs, 1, ctx);
    requireType(a, spec.types, ctx, 'first input');
    requireType(b, spec.types, ctx, 'second input');
    if (!spec.mixedTypes && a.dtype !== b.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${spec.opType} inputs have different types (${a.dtype}, ${b.dtype})`);
    return [{ dtype: spec.comparison ? 'bool' : a.dtype, dims: broadcastShapes([a.dims, b.dims], ctx) }];
  };
  return {
    opType: spec.opType,
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const a = inputs[0]!;
      const b = inputs[1]!;
      const [out] = infer([metaOf(a), metaOf(b)], ctx);
      const av = toNumbers(a);
      const bv = toNumbers(b);
      const am = broadcastIndexMap(out!.dims, a.dims);
      const bm = broadcastIndexMap(out!.dims, b.dims);
      const integer = isIntegral(a.type);
      const res = new Float64Array(am?.length ?? bm?.length ?? av.length);
      for (let i = 0; i < res.length; i++) res[i] = spec.cpu(av[am ? am[i]! : i]!, bv[bm ? bm[i]! : i]!, integer);
      return [fromNumbers(out!.dtype, out!.dims, res)];
    },
    webgpu(inputs, outputs, ctx) {
      const out = outputs[0]!;
      const b = new ShaderBuilder(ctx.caps);
      const A = b.input('A', inputs[0]!, 0);
      const B = b.input('B', inputs[1]!, 1);
      const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
      const n = b.uniform('n', 'u32', A.size > 0 ? Y.size : 0);
      const ct = A.type; // compute type
      if (spec.opType === 'Pow') b.helper('kiln_pow', POW_HELPER);
      const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
      // One pipeline serves every shape of a rank; the equal-shape case skips index math entirely.
      const sameA = same(inputs[0]!);
      const sameB = same(inputs[1]!);
      const needIdx = !sameA || !sameB;
      const body = [
        `  if (global_idx >= ${n}) { return; }`,
        needIdx ? `  let idx = ${Y.offsetToIndices('global_idx')};` : '',
        `  let a = ${ct}(${A.get(sameA ? 'global_idx' : A.broadcastedOffset(Y, 'idx'))});`,
        `  let b = ${ct}(${B.get(sameB ? 'global_idx' : B.broadcastedOffset(Y, 'idx'))});`,
        `  ${Y.set('global_idx', spec.comparison ? `select(0u, 1u, ${spec.wgsl(ct)})` : spec.wgsl(ct))}`,
      ].join('\n');
      return { kind: 'programs', programs: [b.build({ label: `${spec.opType}:${ctx.node}`, body, totalInvocations: Y.size })] };
    },
  };
}

export const kernels: readonly OpKernel[] = SPECS.map(makeKernel);
