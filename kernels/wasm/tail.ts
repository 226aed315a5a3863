// Elementwise programs a kernel runs on each piece of its output right after computing it, while the
// piece is in cache (kernels/wasm/src/eltwise-chain.h kiln_run_tail): the kernel's own fused activation
// (in place), then an elementwise chain that reads the kernel's output (into the chain's output).
// PaddleOCR v4 rec follows each of its 38 convs with Mul, Add, HardSwish, Mul, Add: as a pass of their
// own over each conv's output they were 11% of a 1-thread run and did not speed up on a second thread
// (memory-bound); as a conv's tail they cost only their arithmetic and split with the conv's units.
// The instructions are eltwise-chain.c's, so a tail gives the bits the chain's own pass gives.
import type { WasmStep } from './contract.ts';

/** Words of one instruction (kernels/wasm/src/eltwise-chain.c WORDS). */
export const CHAIN_WORDS = 8;

const bits = new DataView(new ArrayBuffer(4));
/** The int32 word holding x's float32 bits. */
function f32Word(x: number): number {
  bits.setFloat32(0, x, true);
  return bits.getInt32(0, true);
}

/** The instruction of a unary op (its code in kernels/elementwise-unary/wasm.ts UNARY_CODES). */
export function unaryInstruction(code: number, p0: number, p1: number): Int32Array {
  const w = new Int32Array(CHAIN_WORDS);
  w.set([0, code, f32Word(p0), f32Word(p1)]);
  return w;
}

/** A tail's program and where its chain writes: byte offsets in the memory. */
export interface TailProgram {
  /** the program: `pre` instructions run in place on the kernel's output, then count - pre into `out` */
  readonly program: number;
  readonly pre: number;
  readonly count: number;
  readonly out: number;
}

/** What a kernel that runs tails offers the backend (WasmStep.tail). */
export interface TailSupport {
  /** the instructions of the kernel's own fused activation, run first and in place (empty: none) */
  readonly prologue: Int32Array;
  /** the step that runs `t` on each piece of its output instead of its own activation alone */
  withTail(t: TailProgram): WasmStep;
}
