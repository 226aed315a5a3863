// A fused activation of a wasm GEMM-shaped kernel (Conv, Gemm, MatMul): Relu and Clip are the
// GEMM's clamp; LeakyRelu, HardSigmoid and HardSwish a SIMD pass in C (kernels/wasm/src/
// epilogue-f32.c); Sigmoid and Tanh a pass in JS over the output in memory with the elementwise
// table's own function (exp-based, not worth C yet). Every fusable activation is covered.
import { applyActivation, type ActivationSpec } from '../common/activation.ts';
import type { WasmKernels } from './contract.ts';
import { gemmActivation } from './gemm-activation.ts';

const C_KINDS: Readonly<Record<string, number>> = { LeakyRelu: 1, HardSigmoid: 2, HardSwish: 3 };

export interface WasmEpilogue {
  /** the kernel's clamp: flags (2 = clamp), lo, hi */
  readonly clamp: readonly [number, number, number];
  /** applies what the clamp does not, in place over n floats at byte offset y */
  after(k: WasmKernels, y: number, n: number): void;
}

export function wasmEpilogue(spec: ActivationSpec): WasmEpilogue {
  const g = gemmActivation(spec);
  if (g) {
    const clamp: [number, number, number] = g.kind === 'relu' ? [2, 0, Infinity] : g.kind === 'clip' ? [2, g.min, g.max] : [0, -Infinity, Infinity];
    return { clamp, after: () => {} };
  }
  const none: [number, number, number] = [0, -Infinity, Infinity];
  const kind = C_KINDS[spec.kind];
  if (kind !== undefined) {
    const [p0, p1] = [spec.params[0] ?? 0, spec.params[1] ?? 0];
    return { clamp: none, after: (k, y, n) => void k.fn('kiln_epilogue_f32')(y, n, kind, p0, p1) };
  }
  return {
    clamp: none,
    after: (k, y, n) => {
      const v = new Float32Array(k.memory.buffer, y, n);
      for (let i = 0; i < n; i++) v[i] = applyActivation(spec, v[i]!);
    },
  };
}
