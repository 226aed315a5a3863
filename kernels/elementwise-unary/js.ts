import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable, OpDefinition } from '../contract.ts';
import { opKey } from '../contract.ts';
import { definitions } from './op.ts';
import { UNARY_SPECS, type UnarySpec } from './unary-math.ts';

// The call through spec.cpu is megamorphic (one call site for every op); the activations that
// dominate CNN/transformer graphs get their own loops so V8 inlines the arithmetic.
function hotLoopF32(op: string, xs: Float32Array, ys: Float32Array): boolean {
  const n = xs.length;
  switch (op) {
    case 'Relu':
      for (let i = 0; i < n; i++) { const v = xs[i]!; ys[i] = v < 0 ? 0 : v; }
      return true;
    case 'Sigmoid':
      for (let i = 0; i < n; i++) { const v = xs[i]!; ys[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)); }
      return true;
    case 'Tanh':
      for (let i = 0; i < n; i++) ys[i] = Math.tanh(xs[i]!);
      return true;
    default:
      return false;
  }
}

/** float32 in and out (predicates, with bool out, have no fast path): straight from the Float32Array, no float64 round trip; else the reference. */
function fastPath(spec: UnarySpec, definition: OpDefinition): CpuKernel {
  return (inputs, ctx): AnyTensor[] => {
    const x = inputs[0]!;
    if (x.type !== 'float32') return definition.reference(inputs, ctx);
    const p = spec.params?.(ctx) ?? [];
    const mode = spec.mode?.(ctx) ?? '';
    const xs = x.data as Float32Array;
    const ys = new Float32Array(xs.length);
    if (!hotLoopF32(spec.opType, xs, ys)) for (let i = 0; i < xs.length; i++) ys[i] = spec.cpu(xs[i]!, p, mode);
    return [new Tensor('float32', ys, x.dims)];
  };
}

export const js: ImplementationTable<CpuKernel> = Object.fromEntries(
  UNARY_SPECS.filter((s) => s.types.includes('float32') && !s.boolOut).map((s) => [opKey('', s.opType), fastPath(s, definitions.find((d) => d.opType === s.opType && !d.domain)!)]),
);
