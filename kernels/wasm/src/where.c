// Where(condition, X, Y) for the wasm backend: condition bool, X and Y of 1, 4 or 8 bytes per
// element (any dtype the arena holds), all three broadcast to the output (typed.h's walk).
#include "typed.h"

#define SELECT(T)                                                                 \
  do {                                                                            \
    const T *X = (const T *)px, *Y = (const T *)py;                               \
    T *O = (T *)out;                                                              \
    BWALK(desc, {                                                                 \
      const u8 *c_ = c + o0;                                                      \
      const T *x_ = X + o1, *y_ = Y + o2;                                         \
      T *o_ = O + oy;                                                             \
      if (i0 == 1 && i1 == 1 && i2 == 1)                                          \
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
