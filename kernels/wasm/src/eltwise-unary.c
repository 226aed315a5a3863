// Elementwise unary ops on f32 for the wasm backend: y[i] = f(x[i]), 4 lanes at a time, the tail
// through the same vector code on a splat (one lane kept), so every element sees the same math.
// The op codes are kernels/elementwise-unary/wasm.ts's UNARY_CODES; the math is the table's
// (kernels/elementwise-unary/unary-math.ts) through vmath.h. x and y may be the same buffer.
#include "vmath.h"

enum {
  U_RELU, U_LEAKY_RELU, U_SIGMOID, U_TANH, U_GELU, U_GELU_TANH, U_ERF, U_EXP, U_NEG, U_ABS,
  U_SQRT, U_RECIPROCAL, U_HARD_SIGMOID, U_HARD_SWISH, U_CLIP, U_SOFTSIGN,
};

INLINE v128_t apply(int op, v128_t x, v128_t p0, v128_t p1) {
  const v128_t zero = SPLAT(0.0f), one = SPLAT(1.0f);
  switch (op) {
    case U_RELU: return wasm_v128_andnot(x, wasm_f32x4_lt(x, zero)); // x < 0 ? 0 : x (NaN, -0 kept)
    case U_LEAKY_RELU: return wasm_v128_bitselect(x, wasm_f32x4_mul(x, p0), wasm_f32x4_ge(x, zero));
    case U_SIGMOID: return v_sigmoid(x);
    case U_TANH: return v_tanh(x);
    case U_GELU: return wasm_f32x4_mul(wasm_f32x4_mul(SPLAT(0.5f), x), v_erfc(wasm_f32x4_mul(x, SPLAT(-0.70710678118654752f))));
    case U_GELU_TANH: {
      v128_t u = wasm_f32x4_add(x, wasm_f32x4_mul(SPLAT(0.044715f), wasm_f32x4_mul(x, wasm_f32x4_mul(x, x))));
      return wasm_f32x4_mul(x, v_sigmoid(wasm_f32x4_mul(SPLAT(1.5957691216057308f), u)));
    }
    case U_ERF: return v_erf(x);
    case U_EXP: return v_exp(x);
    case U_NEG: return wasm_f32x4_neg(x);
    case U_ABS: return wasm_f32x4_abs(x);
    case U_SQRT: return wasm_f32x4_sqrt(x);
    case U_RECIPROCAL: return wasm_f32x4_div(one, x);
    case U_HARD_SIGMOID: return wasm_f32x4_max(zero, wasm_f32x4_min(one, wasm_f32x4_add(wasm_f32x4_mul(p0, x), p1)));
    case U_HARD_SWISH: return wasm_f32x4_mul(x, wasm_f32x4_max(zero, wasm_f32x4_min(one, wasm_f32x4_add(wasm_f32x4_div(x, SPLAT(6.0f)), SPLAT(0.5f)))));
    // the table's clip: lower bound first, then upper; NaN stays (pmax/pmin keep the first operand on NaN)
    case U_CLIP: return wasm_f32x4_pmin(wasm_f32x4_pmax(x, p0), p1);
    case U_SOFTSIGN: return wasm_f32x4_div(x, wasm_f32x4_add(one, wasm_f32x4_abs(x)));
    default: return x;
  }
}

// One loop per op (the switch folds away inside each), so the hot loop carries no dispatch.
#define LOOP(OP)                                                                    \
  case OP: {                                                                        \
    int i = 0;                                                                      \
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, apply(OP, wasm_v128_load(x + i), p0, p1)); \
    for (; i < n; i++) y[i] = wasm_f32x4_extract_lane(apply(OP, SPLAT(x[i]), p0, p1), 0); \
    return 0;                                                                       \
  }

int KILN_EXPORT(kiln_unary_f32)(int op, const float *x, float *y, int n, float a, float b) {
  v128_t p0 = SPLAT(a), p1 = SPLAT(b);
  switch (op) {
    LOOP(U_RELU) LOOP(U_LEAKY_RELU) LOOP(U_SIGMOID) LOOP(U_TANH) LOOP(U_GELU) LOOP(U_GELU_TANH)
    LOOP(U_ERF) LOOP(U_EXP) LOOP(U_NEG) LOOP(U_ABS) LOOP(U_SQRT) LOOP(U_RECIPROCAL)
    LOOP(U_HARD_SIGMOID) LOOP(U_HARD_SWISH) LOOP(U_CLIP) LOOP(U_SOFTSIGN)
    default: return -1;
  }
}
