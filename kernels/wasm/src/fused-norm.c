// onnxruntime's fused contrib ops on f32 for the wasm backend (kernels/fused-norm, kernels/bias-activation):
// SkipLayerNormalization and its simplified (RMS) forms, and the bias + Gelu activations, with the
// math of their references: two-pass statistics (LayerNorm form relative to the row's first value,
// as kernels/wasm/src/normalization.c), the Gelu forms of the unary table through vmath.h.
#include "vmath.h"

INLINE float hsum4(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/**
 * rows of `len`: v = x (+ skip row r % skip_rows) (+ bias), written to `sum` (or y, as scratch);
 * y = (v - mean) * inv * gamma (+ beta), or v * inv * gamma when simplified (inv from mean(v^2)).
 * skip, bias, beta, sum, mean_out, inv_out: 0 when absent. gamma, beta, bias have `len` values.
 */
void KILN_EXPORT(kiln_skipnorm_f32)(const float *x, const float *skip, int skip_rows, const float *bias, const float *gamma, const float *beta,
                                    float *y, float *sum, float *mean_out, float *inv_out, int rows, int len, float eps, int simplified) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * len;
    const float *sr = skip ? skip + (long)(r % skip_rows) * len : 0;
    float *v = (sum ? sum : y) + (long)r * len;
    float *yr = y + (long)r * len;
    int j = 0;
    for (; j + 4 <= len; j += 4) {
      v128_t a = wasm_v128_load(xr + j);
      if (sr) a = wasm_f32x4_add(a, wasm_v128_load(sr + j));
      if (bias) a = wasm_f32x4_add(a, wasm_v128_load(bias + j));
      wasm_v128_store(v + j, a);
    }
    for (; j < len; j++) v[j] = xr[j] + (sr ? sr[j] : 0.0f) + (bias ? bias[j] : 0.0f);
    // statistics relative to x0 (exact differences for rows far from 0); x0 = 0 in the simplified form
    const float x0 = simplified ? 0.0f : v[0];
    const v128_t bv = SPLAT(x0);
    v128_t s4 = SPLAT(0.0f);
    for (j = 0; j + 4 <= len; j += 4) s4 = wasm_f32x4_add(s4, wasm_f32x4_sub(wasm_v128_load(v + j), bv));
    float s = hsum4(s4);
    for (; j < len; j++) s += v[j] - x0;
    const float m = s / (float)len; // mean - x0
    const float c = simplified ? 0.0f : m;
    const v128_t cv = SPLAT(c);
    v128_t q4 = SPLAT(0.0f);
    for (j = 0; j + 4 <= len; j += 4) {
      v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(v + j), bv), cv);
      q4 = wasm_f32x4_add(q4, wasm_f32x4_mul(d, d));
    }
    float q = hsum4(q4);
    for (; j < len; j++) q += ((v[j] - x0) - c) * ((v[j] - x0) - c);
    const float inv = 1.0f / __builtin_sqrtf(q / (float)len + eps);
    if (mean_out) mean_out[r] = x0 + m;
    if (inv_out) inv_out[r] = inv;
    const v128_t iv = SPLAT(inv);
    for (j = 0; j + 4 <= len; j += 4) {
      v128_t o = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(v + j), bv), cv), iv), wasm_v128_load(gamma + j));
      if (beta) o = wasm_f32x4_add(o, wasm_v128_load(beta + j));
      wasm_v128_store(yr + j, o);
    }
    for (; j < len; j++) yr[j] = ((v[j] - x0) - c) * inv * gamma[j] + (beta ? beta[j] : 0.0f);
  }
}

enum { A_FAST_GELU, A_BIAS_GELU, A_QUICK_GELU };

INLINE v128_t act(int op, v128_t x, v128_t alpha) {
  switch (op) {
    case A_FAST_GELU: {
      v128_t u = wasm_f32x4_add(x, wasm_f32x4_mul(SPLAT(0.044715f), wasm_f32x4_mul(x, wasm_f32x4_mul(x, x))));
      return wasm_f32x4_mul(x, v_sigmoid(wasm_f32x4_mul(SPLAT(1.5957691216057308f), u)));
    }
    case A_BIAS_GELU: return wasm_f32x4_mul(wasm_f32x4_mul(SPLAT(0.5f), x), v_erfc(wasm_f32x4_mul(x, SPLAT(-0.70710678118654752f))));
    default: return wasm_f32x4_mul(x, v_sigmoid(wasm_f32x4_mul(alpha, x)));
  }
}

#define ACT_LOOP(OP)                                                                                   \
  case OP:                                                                                             \
    for (int r = 0; r < rows; r++, x += c, y += c) {                                                   \
      int j = 0;                                                                                       \
      for (; j + 4 <= c; j += 4) {                                                                     \
        v128_t v = wasm_v128_load(x + j);                                                              \
        if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + j));                                     \
        wasm_v128_store(y + j, act(OP, v, av));                                                        \
      }                                                                                                \
      for (; j < c; j++) y[j] = wasm_f32x4_extract_lane(act(OP, SPLAT(x[j] + (bias ? bias[j] : 0.0f)), av), 0); \
    }                                                                                                  \
    return 0;

/** y = act(x + bias) over rows of `c` (bias: `c` values or 0); op: FastGelu, BiasGelu, QuickGelu(alpha). */
int KILN_EXPORT(kiln_bias_act_f32)(int op, const float *x, const float *bias, float *y, int rows, int c, float alpha) {
  v128_t av = SPLAT(alpha);
  switch (op) {
    ACT_LOOP(A_FAST_GELU) ACT_LOOP(A_BIAS_GELU) ACT_LOOP(A_QUICK_GELU)
    default: return -1;
  }
}
