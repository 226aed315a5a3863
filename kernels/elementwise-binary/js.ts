import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { broadcastIndexMap } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import { BINARY_SPECS } from './binary-math.ts';
import { definitions, inferBinary } from './op.ts';

/**
 * float32 Add/Sub/Mul/Div without the float64 round trip, one loop per op so V8 inlines the
 * arithmetic (the generic path calls spec.cpu through one megamorphic site).
 */
function arithF32(op: string, as: Float32Array, bs: Float32Array, am: Int32Array | undefined, bm: Int32Array | undefined, res: Float32Array): boolean {
  const n = res.length;
  if (!am && !bm) {
    switch (op) {
      case 'Add': for (let i = 0; i < n; i++) res[i] = as[i]! + bs[i]!; return true;
      case 'Sub': for (let i = 0; i < n; i++) res[i] = as[i]! - bs[i]!; return true;
      case 'Mul': for (let i = 0; i < n; i++) res[i] = as[i]! * bs[i]!; return true;
      case 'Div': for (let i = 0; i < n; i++) res[i] = as[i]! / bs[i]!; return true;
      default: return false;
    }
  }
  switch (op) {
    case 'Add': for (let i = 0; i < n; i++) res[i] = as[am ? am[i]! : i]! + bs[bm ? bm[i]! : i]!; return true;
    case 'Sub': for (let i = 0; i < n; i++) res[i] = as[am ? am[i]! : i]! - bs[bm ? bm[i]! : i]!; return true;
    case 'Mul': for (let i = 0; i < n; i++) res[i] = as[am ? am[i]! : i]! * bs[bm ? bm[i]! : i]!; return true;
    case 'Div': for (let i = 0; i < n; i++) res[i] = as[am ? am[i]! : i]! / bs[bm ? bm[i]! : i]!; return true;
    default: return false;
  }
}

const FAST_OPS = ['Add', 'Sub', 'Mul', 'Div'] as const;

/** float32 operands take the typed-array loops; every other case is the reference's. */
function fastPath(definition: OpDefinition): CpuKernel {
  return (inputs, ctx): AnyTensor[] => {
    const [a, b] = [inputs[0]!, inputs[1]!];
    if (a.type !== 'float32' || b.type !== 'float32') return definition.reference(inputs, ctx);
    const spec = BINARY_SPECS.find((s) => s.opType === definition.opType)!;
    const [out] = inferBinary(spec, [metaOf(a), metaOf(b)], ctx);
    const am = broadcastIndexMap(out!.dims, a.dims);
    const bm = broadcastIndexMap(out!.dims, b.dims);
    const res = new Float32Array(am?.length ?? bm?.length ?? a.size);
    arithF32(definition.opType, a.data as Float32Array, b.data as Float32Array, am, bm, res);
    return [new Tensor('float32', res, out!.dims)];
  };
}

export const js: ImplementationTable<CpuKernel> = Object.fromEntries(
  definitions.filter((d) => (FAST_OPS as readonly string[]).includes(d.opType)).map((d) => [opKey('', d.opType), fastPath(d)]),
);
