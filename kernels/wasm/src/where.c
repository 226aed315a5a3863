// Where(condition, X, Y) for the wasm backend: condition bool, X and Y of 1, 4 or 8 bytes per
// element (any dtype the arena holds), all three broadcast to the output (typed.h's walk). Runs of
// 4-byte elements with a contiguous condition and each branch contiguous or one value (an attention
// mask's select of -inf or the score) take 4 lanes at a time: the 4 condition bytes widened to a
// lane mask for a bitselect.
#include "typed.h"

/** o[j] = c[j] ? x[j * ix] : y[j * iy] for ix, iy in {0, 1}; kept out of the size-optimized caller */
__attribute__((noinline)) static void select4(const u8 *c, const i32 *x, int ix, const i32 *y, int iy, i32 *o, int n) {
  const v128_t zero = wasm_i32x4_splat(0), xs = wasm_i32x4_splat(x[0]), ys = wasm_i32x4_splat(y[0]);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t m = wasm_i32x4_ne(wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(c + j))), zero);
    wasm_v128_store(o + j, wasm_v128_bitselect(ix ? wasm_v128_load(x + j) : xs, iy ? wasm_v128_load(y + j) : ys, m));
  }
  for (; j < n; j++) o[j] = c[j] ? x[j * ix] : y[j * iy];
}

#define SELECT(T)                                                                 \
  do {                                                                            \
    const T *X = (const T *)px, *Y = (const T *)py;                               \
    T *O = (T *)out;                                                              \
    BWALK(desc, {                                                                 \
      const u8 *c_ = c + o0;                                                      \
      const T *x_ = X + o1, *y_ = Y + o2;                                         \
      T *o_ = O + oy;                                                             \
      if (sizeof(T) == 4 && i0 == 1 && (i1 | i2) <= 1) /* strides are >= 0 */       \
        select4(c_, (const i32 *)x_, i1, (const i32 *)y_, i2, (i32 *)o_, n);       \
      else if (i0 == 1 && i1 == 1 && i2 == 1)                                     \
        for (int j = 0; j < n; j++) o_[j] = c_[j] ? x_[j] : y_[j];                \
      else                                                                        \
        for (int j = 0; j < n; j++) o_[j] = c_[j * i0] ? x_[j * i1] : y_[j * i2]; \
    });                                                                           \
  } while (0)

SMALL void KILN_EXPORT(kiln_where)(const u8 *c, const void *px, const void *py, void *out, int bytes, const int *desc) {
  switch (bytes) {
    case 1: SELECT(u8); break;
    case 4: SELECT(i32); break;
    default: SELECT(i64);
  }
}
