import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { erfc } from '../elementwise-unary/unary-math.ts';
import { BIAS_ACTIVATIONS, biasActivationPlan, definitions } from './op.ts';

/**
 * float32 loops per op (one call site each, so V8 inlines the math) straight from the typed arrays;
 * other types run the reference. The math is the reference's: the Gelu forms of the unary table.
 */
const kernel = (opType: string): CpuKernel => {
  const reference = definitions.find((d) => d.opType === opType)!.reference;
  return (inputs, ctx): AnyTensor[] => {
    if (inputs.some((t) => t && t.type !== 'float32')) return reference(inputs, ctx);
    const p = biasActivationPlan(opType, inputs.map((t) => t && metaOf(t)), ctx);
    const x = inputs[0]!.data as Float32Array;
    const bias = p.bias !== undefined ? (inputs[p.bias]!.data as Float32Array) : undefined;
    const c = p.channels;
    const y = new Float32Array(p.out.dims.reduce((a, b) => a * b, 1));
    const n = y.length;
    switch (opType) {
      case 'FastGelu':
        for (let f = 0; f < n; f++) {
          const v = bias ? x[f]! + bias[f % c]! : x[f]!;
          const u = 1.5957691216057308 * (v + 0.044715 * v * v * v); // 2 sqrt(2/pi) (v + 0.044715 v^3)
          y[f] = u >= 0 ? v / (1 + Math.exp(-u)) : (v * Math.exp(u)) / (1 + Math.exp(u));
        }
        break;
      case 'BiasGelu':
        for (let f = 0; f < n; f++) {
          const v = x[f]! + bias![f % c]!;
          y[f] = 0.5 * v * erfc(-v * Math.SQRT1_2);
        }
        break;
      case 'QuickGelu':
        for (let f = 0; f < n; f++) {
          const v = x[f]!;
          const u = p.alpha * v;
          y[f] = u >= 0 ? v / (1 + Math.exp(-u)) : (v * Math.exp(u)) / (1 + Math.exp(u));
        }
        break;
      case 'BiasAdd': {
        const skip = inputs[p.skip!]!.data as Float32Array;
        for (let f = 0; f < n; f++) y[f] = x[f]! + bias![f % c]! + skip[f]!;
        break;
      }
      default: {
        const half = c / 2;
        for (let f = 0; f < n; f++) {
          const j = f % half;
          const base = (f - j) * 2 + j;
          const g = x[base + half]! + bias![j + half]!;
          y[f] = (x[base]! + bias![j]!) * 0.5 * g * erfc(-g * Math.SQRT1_2);
        }
      }
    }
    return [new Tensor('float32', y, p.out.dims)];
  };
};

export const js: ImplementationTable<CpuKernel> = Object.fromEntries(BIAS_ACTIVATIONS.map((op) => [opKey('com.microsoft', op), kernel(op)]));
