import { fail } from '../../core/errors.ts';
import type { Attributes } from '../../core/attributes.ts';
import type { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { CLIP_MATH, unarySpecOf, wgslNanPassThrough, wgslUnaryExpr } from '../elementwise-unary/unary-math.ts';

/**
 * Activations that the fusion pass (runtime/graph/passes/fuse-activation.ts) folds into
 * Conv/ConvTranspose/MatMul/Gemm. The fused node carries attribute `kiln_activation` (op type) and
 * `kiln_activation_params` (floats: Clip min,max; LeakyRelu alpha; HardSigmoid alpha,beta).
 * The math is the standalone op's, read from the elementwise table (elementwise-unary/unary-math.ts),
 * so a fused node gives the same answer as the unfused pair, on the CPU and on the GPU.
 */
export const FUSABLE_ACTIVATIONS = ['Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish'] as const;
export type FusedActivation = (typeof FUSABLE_ACTIVATIONS)[number];

export interface ActivationSpec {
  readonly kind: FusedActivation | 'none';
  readonly params: readonly number[];
}

const FLT_MAX = 3.4028234663852886e38;

// The standalone ops' attribute defaults, for fused nodes written without params.
const DEFAULT_PARAMS: Readonly<Record<FusedActivation, readonly number[]>> = {
  Relu: [],
  LeakyRelu: [0.01],
  Clip: [-FLT_MAX, FLT_MAX],
  Sigmoid: [],
  Tanh: [],
  HardSigmoid: [0.2, 0.5],
  HardSwish: [],
};

export function activationOf(attrs: Attributes): ActivationSpec {
  const kind = attrs.string('kiln_activation', 'none');
  if (kind === 'none') return { kind, params: [] };
  if (!(FUSABLE_ACTIVATIONS as readonly string[]).includes(kind)) fail('INTERNAL', `unknown fused activation ${kind}`);
  const given = attrs.floats('kiln_activation_params', []);
  const defaults = DEFAULT_PARAMS[kind as FusedActivation];
  return { kind: kind as FusedActivation, params: defaults.map((d, i) => given[i] ?? d) };
}

export function applyActivation(spec: ActivationSpec, x: number): number {
  if (spec.kind === 'none') return x;
  if (spec.kind === 'Clip') return CLIP_MATH.cpu(x, spec.params[0]!, spec.params[1]!);
  return unarySpecOf(spec.kind).cpu(x, spec.params, '');
}

/**
 * Declares the activation's parameters as uniforms and returns a WGSL expression applying it to
 * the f32 expression `x`: a call of `kiln_act`, a helper holding the standalone op's expression
 * (NaN rule included). The activation kind is baked (it changes the code); params are not.
 */
export function wgslActivation(b: ShaderBuilder, spec: ActivationSpec, x: string): string {
  if (spec.kind === 'none') return x;
  if (spec.params.length > 0) b.uniformArray('act_params', 'f32', spec.params);
  const p = (i: number): string => `act_params(${i}u)`;
  let body: string;
  if (spec.kind === 'Clip') {
    body = wgslNanPassThrough(b, CLIP_MATH.wgsl('x', p(0), p(1)));
  } else body = wgslUnaryExpr(b, unarySpecOf(spec.kind), 'f32', p, '', 'float32');
  b.helper('kiln_act', `fn kiln_act(x: f32) -> f32 { return ${body}; }`);
  return `kiln_act(${x})`;
}
