import type { ActivationSpec } from '../common/activation.ts';
import type { GemmActivation } from './contract.ts';

/** The fused activations the GEMM's epilogue applies itself (a clamp); undefined for the others. */
export function gemmActivation(spec: ActivationSpec): GemmActivation | undefined {
  switch (spec.kind) {
    case 'none': return { kind: 'none' };
    case 'Relu': return { kind: 'relu' };
    case 'Clip': return { kind: 'clip', min: spec.params[0] ?? -Infinity, max: spec.params[1] ?? Infinity };
    default: return undefined;
  }
}
