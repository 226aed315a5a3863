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

/** The same over `rows` rows of len elements, row r at s0 + r * stride: a tile of a conv's output. */
void kiln_chain_rows(const int *prog, int count, const float *x, float *y, int s0, int len, int rows, int stride);

/**
 * A kernel's tail over `rows` rows of len elements of its output y (row r at s0 + r * stride): the
 * first `pre` instructions in place on y (its own fused activation), then the other count - pre from
 * y into z (an elementwise chain that reads y). count 0: nothing.
 */
static inline void kiln_run_tail(const int *prog, int pre, int count, float *y, float *z, int s0, int len, int rows,
                                 int stride) {
  if (pre > 0) kiln_chain_rows(prog, pre, y, y, s0, len, rows, stride);
  if (count > pre) kiln_chain_rows(prog + pre * 8, count - pre, y, z, s0, len, rows, stride);
}

#endif
