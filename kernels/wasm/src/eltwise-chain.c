// A chain of elementwise ops as one pass over the data (issue 11): the wasm backend
// (runtime/backends/wasm/elementwise-chains.ts) finds consecutive unary/binary steps whose
// intermediate values nothing else reads and hands them here as a small program. The data goes
// through in tiles of TILE floats: every instruction runs over a tile while it sits in L1, so the
// intermediates never go to memory and each tile's dispatch costs one switch per instruction.
// The math is eltwise-math.h's, the same as the ops alone: a fused chain gives the same bits.
//
// An instruction is 8 i32 words (kernels/wasm/elementwise-chain.ts writes them):
//   0 kind: 0 unary, 1 binary     1 op: the unary or binary op code
//   unary:  2 p0, 3 p1 (f32 bits)
//   binary: 2 the other operand's byte offset, 3 form (0: it has the output's shape; 1: it has `mid`
//           values along the middle axis of [outer, mid, inner]), 4 swap (1: the chained value is
//           the op's second operand), 5 mid, 6 inner
#include "eltwise-chain.h"
#include "eltwise-math.h"

#define TILE 1024
#define WORDS 8
// the loops below are explicit SIMD over short tiles: clang's own vectorizing and unrolling of them
// only adds alias checks and loop versions whose setup, paid per tile and instruction, cost more
// than the tile's work (measured: the chain was ~2x slower than the ops one by one with it)
#define PLAIN _Pragma("clang loop vectorize(disable) unroll(disable)")

INLINE v128_t bin4(int op, int swap, v128_t c, v128_t o) {
  return swap ? op4(op, o, c) : op4(op, c, o);
}
INLINE float bin1(int op, int swap, float c, float o) {
  return swap ? op1(op, o, c) : op1(op, c, o);
}

// y[j] = op(src[j], o[j]) over len floats, the chained value first unless swap
INLINE void bin_run(int op, int swap, const float *src, const float *o, float *y, int len) {
  int j = 0;
  PLAIN for (; j + 16 <= len; j += 16) {
    v128_t a0 = wasm_v128_load(src + j), a1 = wasm_v128_load(src + j + 4), a2 = wasm_v128_load(src + j + 8), a3 = wasm_v128_load(src + j + 12);
    wasm_v128_store(y + j, bin4(op, swap, a0, wasm_v128_load(o + j)));
    wasm_v128_store(y + j + 4, bin4(op, swap, a1, wasm_v128_load(o + j + 4)));
    wasm_v128_store(y + j + 8, bin4(op, swap, a2, wasm_v128_load(o + j + 8)));
    wasm_v128_store(y + j + 12, bin4(op, swap, a3, wasm_v128_load(o + j + 12)));
  }
  PLAIN for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, bin4(op, swap, wasm_v128_load(src + j), wasm_v128_load(o + j)));
  PLAIN for (; j < len; j++) y[j] = bin1(op, swap, src[j], o[j]);
}
INLINE void bin_splat(int op, int swap, const float *src, float s, float *y, int len) {
  const v128_t sv = SPLAT(s);
  int j = 0;
  PLAIN for (; j + 16 <= len; j += 16) {
    v128_t a0 = wasm_v128_load(src + j), a1 = wasm_v128_load(src + j + 4), a2 = wasm_v128_load(src + j + 8), a3 = wasm_v128_load(src + j + 12);
    wasm_v128_store(y + j, bin4(op, swap, a0, sv));
    wasm_v128_store(y + j + 4, bin4(op, swap, a1, sv));
    wasm_v128_store(y + j + 8, bin4(op, swap, a2, sv));
    wasm_v128_store(y + j + 12, bin4(op, swap, a3, sv));
  }
  PLAIN for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, bin4(op, swap, wasm_v128_load(src + j), sv));
  PLAIN for (; j < len; j++) y[j] = bin1(op, swap, src[j], s);
}

// elements [s, e) of the output of one binary instruction; op and swap are constants where
// binary_range below calls it, so each of its loops is specialized (no dispatch per vector)
INLINE void binary_range_of(int op, int swap, const int *ins, const float *src, float *y, int s, int e) {
  const float *o = (const float *)ins[2];
  const int mid = ins[5], inner = ins[6];
  if (ins[3] == 0) {
    bin_run(op, swap, src, o + s, y, e - s);
    return;
  }
  for (int j = s; j < e;) {
    if (inner == 1) {
      // row vector: a run up to the end of the row reads the operand contiguously
      int m = j % mid, end = j - m + mid < e ? j - m + mid : e;
      bin_run(op, swap, src + (j - s), o + m, y + (j - s), end - j);
      j = end;
    } else {
      // one operand value per run of `inner` elements (scalar: mid = 1)
      int block = j / inner, end = (block + 1) * inner < e ? (block + 1) * inner : e;
      bin_splat(op, swap, src + (j - s), o[block % mid], y + (j - s), end - j);
      j = end;
    }
  }
}

// `rows` rows of elements [s, e) `stride` apart; the loop over rows sits inside each case, so a row
// costs no dispatch (binary_range_of is specialized per op)
#define BINARY_CASE(OP)                                                                       \
  case OP:                                                                                    \
    for (int r = 0; r < rows; r++) {                                                          \
      const int o = r * stride;                                                               \
      if (ins[4]) binary_range_of(OP, 1, ins, src + o, y + o, s + o, e + o);                  \
      else binary_range_of(OP, 0, ins, src + o, y + o, s + o, e + o);                         \
    }                                                                                         \
    return;

static void binary_rows(int op, const int *ins, const float *src, float *y, int s, int e, int rows, int stride) {
  switch (op) {
    BINARY_CASE(B_ADD) BINARY_CASE(B_SUB) BINARY_CASE(B_MUL) BINARY_CASE(B_DIV)
    default: return;
  }
}

#define UNARY_CASE(OP)                                                                          \
  case OP: {                                                                                    \
    int j = 0;                                                                                  \
    PLAIN for (; j + 16 <= len; j += 16) {                                                     \
      v128_t a0 = wasm_v128_load(src + j), a1 = wasm_v128_load(src + j + 4);                    \
      v128_t a2 = wasm_v128_load(src + j + 8), a3 = wasm_v128_load(src + j + 12);               \
      wasm_v128_store(y + j, unary4(OP, a0, p0, p1));                                           \
      wasm_v128_store(y + j + 4, unary4(OP, a1, p0, p1));                                       \
      wasm_v128_store(y + j + 8, unary4(OP, a2, p0, p1));                                       \
      wasm_v128_store(y + j + 12, unary4(OP, a3, p0, p1));                                      \
    }                                                                                           \
    PLAIN for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, unary4(OP, wasm_v128_load(src + j), p0, p1)); \
    PLAIN for (; j < len; j++) y[j] = wasm_f32x4_extract_lane(unary4(OP, SPLAT(src[j]), p0, p1), 0); \
    return;                                                                                     \
  }

static void unary_range(int op, const int *ins, const float *src, float *y, int len) {
  const v128_t p0 = SPLAT(__builtin_bit_cast(float, ins[2])), p1 = SPLAT(__builtin_bit_cast(float, ins[3]));
  switch (op) {
    UNARY_CASE(U_RELU) UNARY_CASE(U_LEAKY_RELU) UNARY_CASE(U_SIGMOID) UNARY_CASE(U_TANH) UNARY_CASE(U_GELU)
    UNARY_CASE(U_GELU_TANH) UNARY_CASE(U_ERF) UNARY_CASE(U_EXP) UNARY_CASE(U_NEG) UNARY_CASE(U_ABS)
    UNARY_CASE(U_SQRT) UNARY_CASE(U_RECIPROCAL) UNARY_CASE(U_HARD_SIGMOID) UNARY_CASE(U_HARD_SWISH)
    UNARY_CASE(U_CLIP) UNARY_CASE(U_SOFTSIGN) UNARY_CASE(U_SQUARE) UNARY_CASE(U_CUBE)
    UNARY_CASE(U_FLOOR) UNARY_CASE(U_CEIL) UNARY_CASE(U_ROUND) UNARY_CASE(U_THRESHOLDED_RELU) UNARY_CASE(U_LOG)
    default: return;
  }
}

void kiln_chain_rows(const int *prog, int count, const float *x, float *y, int s0, int len, int rows, int stride) {
  // blocks of whole rows holding about TILE elements (a long row: TILE-long pieces of it), each block
  // through every instruction while it sits in L1
  if (len <= 0) return;
  const int per = len >= TILE ? 1 : TILE / len;
  for (int r0 = 0; r0 < rows; r0 += per) {
    const int nr = rows - r0 < per ? rows - r0 : per;
    for (int c0 = 0; c0 < len; c0 += TILE) {
      const int n = len - c0 < TILE ? len - c0 : TILE;
      const int s = s0 + r0 * stride + c0;
      const float *src = x + s;
      float *dst = y + s;
      for (int i = 0; i < count; i++) {
        const int *ins = prog + i * WORDS;
        if (ins[0] == 0) {
          for (int r = 0; r < nr; r++) unary_range(ins[1], ins, src + r * stride, dst + r * stride, n);
        } else {
          binary_rows(ins[1], ins, src, dst, s, s + n, nr, stride);
        }
        src = dst;
      }
    }
  }
}

/** Elements [s0, s1) of a chain, tile by tile; a binary operand's broadcast index is the absolute one. */
void kiln_chain_range(const int *prog, int count, const float *x, float *y, int s0, int s1) {
  kiln_chain_rows(prog, count, x, y, s0, s1 - s0, 1, 0);
}

/** Runs `count` instructions at `prog` over n floats: x (the chain's input) -> y. y must not overlap an operand. */
int KILN_EXPORT(kiln_chain_f32)(const int *prog, int count, const float *x, float *y, int n) {
  kiln_chain_range(prog, count, x, y, 0, n);
  return 0;
}

/**
 * Elements [u0 * CHAIN_BLOCK, min(u1 * CHAIN_BLOCK, n)) of kiln_chain_f32's call: the thread pool's
 * row-parallel form (kernels/wasm/contract.ts ROW_PARALLEL_EXPORTS). Parts start on tile boundaries
 * and every element goes through the same vector math, so the bits do not depend on the split.
 */
#define CHAIN_BLOCK (2 * TILE)
int KILN_EXPORT(kiln_chain_part_f32)(const int *prog, int count, const float *x, float *y, int n, int u0, int u1) {
  const int i0 = u0 * CHAIN_BLOCK, i1 = u1 * CHAIN_BLOCK < n ? u1 * CHAIN_BLOCK : n;
  if (i1 > i0) kiln_chain_range(prog, count, x, y, i0, i1);
  return 0;
}
