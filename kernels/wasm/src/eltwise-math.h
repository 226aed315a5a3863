// The per-vector math of the elementwise kernels (kernels/wasm/src/eltwise-unary.c,
// eltwise-binary.c) and of the fused chains (eltwise-chain.c), in one place so a fused op gives the
// same bits as the op alone. Unary op codes are kernels/elementwise-unary/wasm.ts's UNARY_CODES,
// binary ones kernels/elementwise-binary/wasm.ts's BINARY_CODES; the math is the table's
// (kernels/elementwise-unary/unary-math.ts) through vmath.h.
#ifndef KILN_ELTWISE_MATH_H
#define KILN_ELTWISE_MATH_H
#include "vmath.h"

enum {
  U_RELU, U_LEAKY_RELU, U_SIGMOID, U_TANH, U_GELU, U_GELU_TANH, U_ERF, U_EXP, U_NEG, U_ABS,
  U_SQRT, U_RECIPROCAL, U_HARD_SIGMOID, U_HARD_SWISH, U_CLIP, U_SOFTSIGN, U_SQUARE, U_CUBE,
  U_FLOOR, U_CEIL, U_ROUND, U_THRESHOLDED_RELU, U_LOG,
};

INLINE v128_t unary4(int op, v128_t x, v128_t p0, v128_t p1) {
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
    // Pow with a constant exponent of 2 or 3 (x * x is exact in f64, so it is pow's f32 result)
    case U_SQUARE: return wasm_f32x4_mul(x, x);
    case U_CUBE: return wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
    case U_FLOOR: return wasm_f32x4_floor(x);
    case U_CEIL: return wasm_f32x4_ceil(x);
    case U_ROUND: return wasm_f32x4_nearest(x); // half to even, as ONNX's Round
    case U_THRESHOLDED_RELU: return wasm_v128_and(x, wasm_f32x4_gt(x, p0)); // NaN -> 0, as the table
    case U_LOG: return v_log(x);
    default: return x;
  }
}

enum { B_ADD, B_SUB, B_MUL, B_DIV };

INLINE v128_t op4(int op, v128_t a, v128_t b) {
  switch (op) {
    case B_ADD: return wasm_f32x4_add(a, b);
    case B_SUB: return wasm_f32x4_sub(a, b);
    case B_MUL: return wasm_f32x4_mul(a, b);
    default: return wasm_f32x4_div(a, b);
  }
}
INLINE float op1(int op, float a, float b) {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    default: return a / b;
  }
}

#endif
