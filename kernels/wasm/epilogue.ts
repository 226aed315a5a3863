// A fused activation of a wasm GEMM-shaped kernel (Conv, Gemm, MatMul): Relu and Clip are the
// GEMM's clamp; every other activation is one in-place pass of the standalone op's own C function
// (kiln_unary_f32, kernels/wasm/src/eltwise-unary.c) over the output while it is still in cache,
// so a fused activation gives bit for bit what the standalone op gives (test/ops/fused-activation).
// Conv runs the same op per piece of its output instead (`instructions`, kernels/wasm/tail.ts).
import { fail } from '../../core/errors.ts';
import type { ActivationSpec } from '../common/activation.ts';
import { UNARY_CODES } from '../elementwise-unary/wasm.ts';
import type { WasmKernels } from './contract.ts';
import { gemmActivation } from './gemm-activation.ts';
import { unaryInstruction } from './tail.ts';

export interface WasmEpilogue {
  /** the kernel's clamp: flags (2 = clamp), lo, hi */
  readonly clamp: readonly [number, number, number];
  /** applies what the clamp does not, in place over n floats at byte offset y */
  after(k: WasmKernels, y: number, n: number): void;
  /** what `after` applies, as instructions a kernel can run per piece of its output (tail.ts); empty for a clamp */
  readonly instructions: Int32Array;
}

export function wasmEpilogue(spec: ActivationSpec): WasmEpilogue {
  const g = gemmActivation(spec);
  if (g) {
    const clamp: [number, number, number] = g.kind === 'relu' ? [2, 0, Infinity] : g.kind === 'clip' ? [2, g.min, g.max] : [0, -Infinity, Infinity];
    return { clamp, after: () => {}, instructions: new Int32Array(0) };
  }
  const code = UNARY_CODES[spec.kind];
  if (code === undefined) return fail('INTERNAL', `wasm epilogue: no kiln_unary_f32 code for the fused activation ${spec.kind}`);
  const [p0, p1] = [spec.params[0] ?? 0, spec.params[1] ?? 0];
  let unary: ReturnType<WasmKernels['fn']> | undefined; // looked up once, not per run
  return { clamp: [0, -Infinity, Infinity], after: (k, y, n) => void (unary ??= k.fn('kiln_unary_f32'))(code, y, y, n, p0, p1), instructions: unaryInstruction(code, p0, p1) };
}
