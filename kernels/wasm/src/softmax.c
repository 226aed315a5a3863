// Softmax / LogSoftmax over contiguous rows (the last axis, or the opset < 13 2-D coercion) for
// the wasm backend, in the reference's three passes: the row max, exp(x - max) and its sum, then
// the scale (Softmax: times 1 / sum) or the shift (LogSoftmax: x - max - log(sum)).
#include "vmath.h"

INLINE float row_max(const float *x, int len) {
  v128_t m = SPLAT(-__builtin_inff()), m2 = m;
  int j = 0;
  // two accumulators: independent max chains (f32x4.max lowers to several x64 instructions)
  for (; j + 8 <= len; j += 8) {
    m = wasm_f32x4_max(m, wasm_v128_load(x + j));
    m2 = wasm_f32x4_max(m2, wasm_v128_load(x + j + 4));
  }
  m = wasm_f32x4_max(m, m2);
  for (; j + 4 <= len; j += 4) m = wasm_f32x4_max(m, wasm_v128_load(x + j));
  float r = wasm_f32x4_extract_lane(m, 0);
  float l1 = wasm_f32x4_extract_lane(m, 1), l2 = wasm_f32x4_extract_lane(m, 2), l3 = wasm_f32x4_extract_lane(m, 3);
  r = r > l1 || r != r ? r : l1;
  r = r > l2 || r != r ? r : l2;
  r = r > l3 || r != r ? r : l3;
  for (; j < len; j++) r = r > x[j] || r != r ? r : x[j];
  return r;
}

/**
 * Writes exp(x - max) to y (Softmax) or nowhere (y null); returns the sum. x - max <= 0, so
 * v_exp_nonpositive: weights below e^-87 are 0, never formed through denormal products (a row with
 * -1e9 masked entries, as an unrecognised attention leaves it, cost a microcode assist per entry).
 */
INLINE float exp_sum(const float *x, float *y, int len, float max) {
  v128_t mv = SPLAT(max), s = SPLAT(0.0f), s2 = s;
  int j = 0;
  // two vectors per iteration: two independent exp chains to overlap (V8 schedules little itself)
  for (; j + 8 <= len; j += 8) {
    v128_t e = v_exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(x + j), mv));
    v128_t e2 = v_exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(x + j + 4), mv));
    if (y) {
      wasm_v128_store(y + j, e);
      wasm_v128_store(y + j + 4, e2);
    }
    s = wasm_f32x4_add(s, e);
    s2 = wasm_f32x4_add(s2, e2);
  }
  s = wasm_f32x4_add(s, s2);
  for (; j + 4 <= len; j += 4) {
    v128_t e = v_exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(x + j), mv));
    if (y) wasm_v128_store(y + j, e);
    s = wasm_f32x4_add(s, e);
  }
  float sum = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
  for (; j < len; j++) {
    float e = wasm_f32x4_extract_lane(v_exp_nonpositive(SPLAT(x[j] - max)), 0);
    if (y) y[j] = e;
    sum += e;
  }
  return sum;
}

void KILN_EXPORT(kiln_softmax_f32)(const float *x, float *y, int rows, int len, int log) {
  for (int r = 0; r < rows; r++, x += len, y += len) {
    float max = row_max(x, len);
    if (log) {
      // (x - max) - log(sum), as the reference orders it: never max + log(sum) first, which rounds
      // log(sum) to the ulp of max (6e-5 at 1000)
      float logSum = s_log(exp_sum(x, 0, len, max));
      v128_t sv = SPLAT(max), lv = SPLAT(logSum);
      int j = 0;
      for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), sv), lv));
      for (; j < len; j++) y[j] = (x[j] - max) - logSum;
      continue;
    }
    float inv = 1.0f / exp_sum(x, y, len, max);
    v128_t iv = SPLAT(inv);
    int j = 0;
    for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, wasm_f32x4_mul(wasm_v128_load(y + j), iv));
    for (; j < len; j++) y[j] *= inv;
  }
}

// Softmax / LogSoftmax over a strided axis (opset >= 13, axis not last): [outer, len, inner], each
// of the inner columns its own row at stride inner, 4 columns per vector (the tail one column on a
// splat, one lane kept). Same three passes and the same math as the contiguous rows above; the
// max propagates NaN (f32x4.max does, as row_max), log(sum) is v_log (s_log's polynomial).
INLINE v128_t ld(const float *p, int one) { return one ? SPLAT(*p) : wasm_v128_load(p); }
INLINE void st(float *p, v128_t v, int one) {
  if (one) *p = wasm_f32x4_extract_lane(v, 0);
  else wasm_v128_store(p, v);
}

INLINE void softmax_columns(const float *x, float *y, int len, int inner, int log, int one) {
  v128_t m = ld(x, one);
  for (int l = 1; l < len; l++) m = wasm_f32x4_max(m, ld(x + (long)l * inner, one));
  v128_t s = SPLAT(0.0f);
  for (int l = 0; l < len; l++) {
    v128_t e = v_exp_nonpositive(wasm_f32x4_sub(ld(x + (long)l * inner, one), m));
    if (!log) st(y + (long)l * inner, e, one);
    s = wasm_f32x4_add(s, e);
  }
  if (log) {
    v128_t ls = v_log(s);
    for (int l = 0; l < len; l++) st(y + (long)l * inner, wasm_f32x4_sub(wasm_f32x4_sub(ld(x + (long)l * inner, one), m), ls), one);
    return;
  }
  v128_t inv = wasm_f32x4_div(SPLAT(1.0f), s);
  for (int l = 0; l < len; l++) st(y + (long)l * inner, wasm_f32x4_mul(ld(y + (long)l * inner, one), inv), one);
}

void KILN_EXPORT(kiln_softmax_strided_f32)(const float *x, float *y, int outer, int len, int inner, int log) {
  for (int o = 0; o < outer; o++) {
    const float *xo = x + (long)o * len * inner;
    float *yo = y + (long)o * len * inner;
    int i = 0;
    for (; i + 4 <= inner; i += 4) softmax_columns(xo + i, yo + i, len, inner, log, 0);
    for (; i < inner; i++) softmax_columns(xo + i, yo + i, len, inner, log, 1);
  }
}
