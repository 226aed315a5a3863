// Elementwise unary ops on f32 for the wasm backend: y[i] = f(x[i]), 4 lanes at a time, the tail
// through the same vector code on a splat (one lane kept), so every element sees the same math.
// The op codes are kernels/elementwise-unary/wasm.ts's UNARY_CODES; the math is the table's
// (kernels/elementwise-unary/unary-math.ts) through vmath.h. x and y may be the same buffer.
#include "eltwise-math.h"

// One loop per op (the switch folds away inside each), so the hot loop carries no dispatch.
#define LOOP(OP)                                                                    \
  case OP: {                                                                        \
    int i = 0;                                                                      \
    for (; i + 8 <= n; i += 8) {                                                    \
      v128_t a = unary4(OP, wasm_v128_load(x + i), p0, p1);                         \
      v128_t b = unary4(OP, wasm_v128_load(x + i + 4), p0, p1);                     \
      wasm_v128_store(y + i, a);                                                    \
      wasm_v128_store(y + i + 4, b);                                                \
    }                                                                               \
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, unary4(OP, wasm_v128_load(x + i), p0, p1)); \
    for (; i < n; i++) y[i] = wasm_f32x4_extract_lane(unary4(OP, SPLAT(x[i]), p0, p1), 0); \
    return 0;                                                                       \
  }

int KILN_EXPORT(kiln_unary_f32)(int op, const float *x, float *y, int n, float a, float b) {
  v128_t p0 = SPLAT(a), p1 = SPLAT(b);
  switch (op) {
    LOOP(U_RELU) LOOP(U_LEAKY_RELU) LOOP(U_SIGMOID) LOOP(U_TANH) LOOP(U_GELU) LOOP(U_GELU_TANH)
    LOOP(U_ERF) LOOP(U_EXP) LOOP(U_NEG) LOOP(U_ABS) LOOP(U_SQRT) LOOP(U_RECIPROCAL)
    LOOP(U_HARD_SIGMOID) LOOP(U_HARD_SWISH) LOOP(U_CLIP) LOOP(U_SOFTSIGN) LOOP(U_SQUARE) LOOP(U_CUBE)
    LOOP(U_FLOOR) LOOP(U_CEIL) LOOP(U_ROUND) LOOP(U_THRESHOLDED_RELU) LOOP(U_LOG)
    default: return -1;
  }
}

/**
 * Elements [u0 * UNARY_BLOCK, min(u1 * UNARY_BLOCK, n)) of kiln_unary_f32's call: the thread pool's
 * row-parallel form (kernels/wasm/contract.ts ROW_PARALLEL_EXPORTS). Every element goes through the
 * same vector math wherever a part starts, so the bits do not depend on the split.
 */
#define UNARY_BLOCK 2048
int KILN_EXPORT(kiln_unary_part_f32)(int op, const float *x, float *y, int n, float a, float b, int u0, int u1) {
  int i0 = u0 * UNARY_BLOCK, i1 = u1 * UNARY_BLOCK < n ? u1 * UNARY_BLOCK : n;
  if (i1 <= i0) return 0;
  return kiln_unary_f32(op, x + i0, y + i0, i1 - i0, a, b);
}
