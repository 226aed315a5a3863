// Reductions over a middle block of axes for the wasm backend: the input viewed as
// [outer, len, inner], y[o, i] = post(combine over l of pre(x[o, l, i])), vectorized along the
// contiguous inner axis, 16 outputs at a time (trailing-axis reductions, inner = 1, use
// kiln_reduce_rows_f32 in pool.c where it has the mode). Modes are kernels/reduce/wasm.ts's.
// Max and Min propagate NaN (f32x4.max/min do), as Math.max/min in the reference.
#include "vmath.h"

enum { R_MEAN, R_MAX, R_SUM, R_MIN, R_SUMSQ, R_L1, R_L2 };

INLINE v128_t pre4(int mode, v128_t v) {
  if (mode == R_L1) return wasm_f32x4_abs(v);
  if (mode == R_SUMSQ || mode == R_L2) return wasm_f32x4_mul(v, v);
  return v;
}
INLINE v128_t comb4(int mode, v128_t a, v128_t b) {
  if (mode == R_MAX) return wasm_f32x4_max(a, b);
  if (mode == R_MIN) return wasm_f32x4_min(a, b);
  return wasm_f32x4_add(a, b);
}
INLINE v128_t post4(int mode, v128_t a, int len) {
  if (mode == R_MEAN) return wasm_f32x4_div(a, SPLAT((float)len));
  if (mode == R_L2) return wasm_f32x4_sqrt(a);
  return a;
}

INLINE void reduce_mid(int mode, const float *x, float *y, int outer, int len, int inner) {
  for (int o = 0; o < outer; o++) {
    const float *xo = x + (long)o * len * inner;
    float *yo = y + (long)o * inner;
    int i = 0;
    for (; i + 16 <= inner; i += 16) {
      v128_t a0 = pre4(mode, wasm_v128_load(xo + i)), a1 = pre4(mode, wasm_v128_load(xo + i + 4));
      v128_t a2 = pre4(mode, wasm_v128_load(xo + i + 8)), a3 = pre4(mode, wasm_v128_load(xo + i + 12));
      for (int l = 1; l < len; l++) {
        const float *r = xo + (long)l * inner + i;
        a0 = comb4(mode, a0, pre4(mode, wasm_v128_load(r)));
        a1 = comb4(mode, a1, pre4(mode, wasm_v128_load(r + 4)));
        a2 = comb4(mode, a2, pre4(mode, wasm_v128_load(r + 8)));
        a3 = comb4(mode, a3, pre4(mode, wasm_v128_load(r + 12)));
      }
      wasm_v128_store(yo + i, post4(mode, a0, len));
      wasm_v128_store(yo + i + 4, post4(mode, a1, len));
      wasm_v128_store(yo + i + 8, post4(mode, a2, len));
      wasm_v128_store(yo + i + 12, post4(mode, a3, len));
    }
    for (; i + 4 <= inner; i += 4) {
      v128_t a = pre4(mode, wasm_v128_load(xo + i));
      for (int l = 1; l < len; l++) a = comb4(mode, a, pre4(mode, wasm_v128_load(xo + (long)l * inner + i)));
      wasm_v128_store(yo + i, post4(mode, a, len));
    }
    // the tail through the same vector math on splats (one lane kept)
    for (; i < inner; i++) {
      v128_t a = pre4(mode, SPLAT(xo[i]));
      for (int l = 1; l < len; l++) a = comb4(mode, a, pre4(mode, SPLAT(xo[(long)l * inner + i])));
      yo[i] = wasm_f32x4_extract_lane(post4(mode, a, len), 0);
    }
  }
}

#define MODE(M) case M: reduce_mid(M, x, y, outer, len, inner); return 0;

int KILN_EXPORT(kiln_reduce_mid_f32)(const float *x, float *y, int outer, int len, int inner, int mode) {
  switch (mode) {
    MODE(R_MEAN) MODE(R_MAX) MODE(R_SUM) MODE(R_MIN) MODE(R_SUMSQ) MODE(R_L1) MODE(R_L2)
    default: return -1;
  }
}
