// An elementwise program (eltwise-chain.c) run over part of a tensor by another kernel: a conv runs its
// fused activation and the elementwise chain after it on each piece of its output right after
// computing that piece, while it is still in cache (kernels/wasm/tail.ts).
#ifndef KILN_ELTWISE_CHAIN_H
#define KILN_ELTWISE_CHAIN_H

/**
 * Elements [s0, s1) of `count` instructions at `prog` (8 words each): x -> y, x == y allowed. Indices
 * are absolute (a broadcast operand is read at the element's index in the whole tensor), so any
 * piece gives the bits one pass over the whole tensor gives.
 */
void kiln_chain_range(const int *prog, int count, const float *x, float *y, int s0, int s1);

/**
 * A kernel's tail over elements [s0, s1) of its output y: the first `pre` instructions in place on y
 * (its own fused activation), then the other count - pre from y into z (an elementwise chain that
 * reads y). count 0: nothing.
 */
static inline void kiln_run_tail(const int *prog, int pre, int count, float *y, float *z, int s0, int s1) {
  if (pre > 0) kiln_chain_range(prog, pre, y, y, s0, s1);
  if (count > pre) kiln_chain_range(prog + pre * 8, count - pre, y, z, s0, s1);
}

#endif
