// Row normalizations on f32 for the wasm backend: LayerNormalization over its trailing axes and
// InstanceNormalization (a row per sample and channel), as the reference computes them: the mean,
// then the mean of squared deviations (two passes: no E[x^2] - E[x]^2 cancellation), both taken
// relative to the row's first value, then y = (x - mean) * invStd * scale + bias.
#include "vmath.h"

INLINE float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/**
 * One row's statistics relative to x0, its first value: the mean of (x - x0) and 1 / sqrt(var + eps).
 * For rows offset far from 0 (values near 100 varying by 1) x - x0 is exact (Sterbenz) where a sum
 * of x and x - mean lose the variation to f32 rounding; y = ((x - x0) - shifted_mean) * inv * ...
 */
INLINE void row_stats(const float *x, int len, float eps, float *x0, float *shifted_mean, float *inv) {
  const float base = x[0];
  const v128_t bv = SPLAT(base);
  v128_t s = SPLAT(0.0f);
  int j = 0;
  for (; j + 4 <= len; j += 4) s = wasm_f32x4_add(s, wasm_f32x4_sub(wasm_v128_load(x + j), bv));
  float sum = hsum(s);
  for (; j < len; j++) sum += x[j] - base;
  float m = sum / (float)len;
  v128_t mv = SPLAT(m), q = SPLAT(0.0f);
  for (j = 0; j + 4 <= len; j += 4) {
    v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), bv), mv);
    q = wasm_f32x4_add(q, wasm_f32x4_mul(d, d));
  }
  float sq = hsum(q);
  for (; j < len; j++) sq += ((x[j] - base) - m) * ((x[j] - base) - m);
  *x0 = base;
  *shifted_mean = m;
  *inv = 1.0f / __builtin_sqrtf(sq / (float)len + eps);
}

/** LayerNormalization: scale and bias (bias 0: none) have `len` elements, shared by every row. */
void KILN_EXPORT(kiln_layernorm_f32)(const float *x, const float *scale, const float *bias, float *y, int rows, int len, float eps) {
  for (int r = 0; r < rows; r++, x += len, y += len) {
    float x0, m, inv;
    row_stats(x, len, eps, &x0, &m, &inv);
    v128_t bv = SPLAT(x0), mv = SPLAT(m), iv = SPLAT(inv);
    int j = 0;
    for (; j + 4 <= len; j += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), bv), mv), iv), wasm_v128_load(scale + j));
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + j));
      wasm_v128_store(y + j, v);
    }
    for (; j < len; j++) y[j] = ((x[j] - x0) - m) * inv * scale[j] + (bias ? bias[j] : 0.0f);
  }
}

/** InstanceNormalization: row r is channel r % channels; scale and bias have `channels` elements. */
void KILN_EXPORT(kiln_instancenorm_f32)(const float *x, const float *scale, const float *bias, float *y, int rows, int len, int channels, float eps) {
  for (int r = 0; r < rows; r++, x += len, y += len) {
    float x0, m, inv;
    row_stats(x, len, eps, &x0, &m, &inv);
    int c = r % channels;
    v128_t bv = SPLAT(x0), mv = SPLAT(m), iv = SPLAT(inv), sv = SPLAT(scale[c]), cv = SPLAT(bias[c]);
    int j = 0;
    for (; j + 4 <= len; j += 4) wasm_v128_store(y + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), bv), mv), iv), sv), cv));
    for (; j < len; j++) y[j] = ((x[j] - x0) - m) * inv * scale[c] + bias[c];
  }
}

/**
 * BatchNormalization (inference) folded per channel at session start into y = x * a[m] + b[m], the
 * output viewed as [outer, mid, inner] (mid: channels, or C x D1 x ... with spatial = 0).
 */
void KILN_EXPORT(kiln_channel_affine_f32)(const float *x, const float *a, const float *b, float *y, int outer, int mid, int inner) {
  for (int o = 0; o < outer; o++) {
    for (int m = 0; m < mid; m++, x += inner, y += inner) {
      v128_t av = SPLAT(a[m]), bv = SPLAT(b[m]);
      int j = 0;
      for (; j + 4 <= inner; j += 4) wasm_v128_store(y + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + j), av), bv));
      for (; j < inner; j++) y[j] = x[j] * a[m] + b[m];
    }
  }
}
