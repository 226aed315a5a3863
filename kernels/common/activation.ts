import { fail } from '../../core/errors.ts';
import type { Attributes } from '../../core/attributes.ts';
import type { ShaderBuilder } from '../webgpu/shader-builder.ts';

/**
 * Activations that the fusion pass (runtime/graph/passes/fuse-activation.ts) folds into
 * Conv/ConvTranspose/MatMul/Gemm. The fused node carries attribute `kiln_activation` (op type) and
 * `kiln_activation_params` (floats: Clip min,max; LeakyRelu alpha; HardSigmoid alpha,beta).
 */
export const FUSABLE_ACTIVATIONS = ['Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish'] as const;
export type FusedActivation = (typeof FUSABLE_ACTIVATIONS)[number];

export interface ActivationSpec {
  readonly kind: FusedActivation | 'none';
  readonly params: readonly number[];
}

export function activationOf(attrs: Attributes): ActivationSpec {
  const kind = attrs.string('kiln_activation', 'none');
  if (kind !== 'none' && !(FUSABLE_ACTIVATIONS as readonly string[]).includes(kind)) fail('INTERNAL', `unknown fused activation ${kind}`);
  return { kind: kind as FusedActivation | 'none', params: attrs.floats('kiln_activation_params', []) };
}

export function applyActivation(spec: ActivationSpec, x: number): number {
  const p = spec.params;
  switch (spec.kind) {
    case 'none': return x;
    case 'Relu': return x > 0 || Number.isNaN(x) ? x : 0; // NaN passes through, as the Relu op does
    case 'LeakyRelu': return x >= 0 ? x : x * (p[0] ?? 0.01);
    case 'Clip': return Math.min(Math.max(x, p[0] ?? -Infinity), p[1] ?? Infinity);
    case 'Sigmoid': return 1 / (1 + Math.exp(-x));
    case 'Tanh': return Math.tanh(x);
    case 'HardSigmoid': return Math.max(0, Math.min(1, (p[0] ?? 0.2) * x + (p[1] ?? 0.5)));
    case 'HardSwish': return x * Math.max(0, Math.min(1, x / 6 + 0.5));
  }
}

/**
 * Declares the activation's parameters as uniforms and returns a WGSL expression applying it to
 * the f32 expression `x`. The activation kind is baked (it changes the code); params are not.
 */
export function wgslActivation(b: ShaderBuilder, spec: ActivationSpec, x: string): string {
  if (spec.kind === 'none') return x;
  const p = spec.params;
  switch (spec.kind) {
    case 'Relu': return `select(0.0, ${x}, (${x}) > 0.0 || (${x}) != (${x}))`;
    case 'LeakyRelu': {
      b.uniformArray('act_params', 'f32', [p[0] ?? 0.01]);
      return `select((${x}) * act_params(0u), ${x}, (${x}) >= 0.0)`;
    }
    case 'Clip': {
      b.uniformArray('act_params', 'f32', [p[0] ?? -3.4028234663852886e38, p[1] ?? 3.4028234663852886e38]);
      return `clamp(${x}, act_params(0u), act_params(1u))`;
    }
    case 'Sigmoid': return `(1.0 / (1.0 + exp(-(${x}))))`;
    case 'Tanh': return `tanh(clamp(${x}, -15.0, 15.0))`;
    case 'HardSigmoid': {
      b.uniformArray('act_params', 'f32', [p[0] ?? 0.2, p[1] ?? 0.5]);
      return `clamp(act_params(0u) * (${x}) + act_params(1u), 0.0, 1.0)`;
    }
    case 'HardSwish': return `(${x}) * clamp((${x}) / 6.0 + 0.5, 0.0, 1.0)`;
  }
}
