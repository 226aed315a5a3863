// Comparisons to bool (Equal, Less, LessOrEqual, Greater, GreaterOrEqual on float32, int32, int64,
// uint8, int8, bool) and And / Or / Xor on bool, both operands broadcast to the output
// (typed.h's walk), plus Not. int64 compares exactly (the reference compares the doubles, which
// agree below 2^53). NaN compares false, and unequal, as in JS.
#include "typed.h"

enum { C_EQ, C_LT, C_LE, C_GT, C_GE, C_AND, C_OR, C_XOR };

#define RUN(T, EXPR)                                                                                   \
  do {                                                                                                 \
    const T *A = (const T *)pa, *B = (const T *)pb;                                                    \
    BWALK(desc, {                                                                                      \
      const T *a_ = A + o0, *b_ = B + o1;                                                              \
      u8 *y_ = y + oy;                                                                                 \
      if (i0 == 1 && i1 == 1)                                                                          \
        for (int j = 0; j < n; j++) { T a = a_[j], b = b_[j]; y_[j] = (EXPR); }                         \
      else if (i0 == 1 && i1 == 0)                                                                     \
        for (int j = 0; j < n; j++) { T a = a_[j], b = b_[0]; y_[j] = (EXPR); }                         \
      else if (i0 == 0 && i1 == 1)                                                                     \
        for (int j = 0; j < n; j++) { T a = a_[0], b = b_[j]; y_[j] = (EXPR); }                         \
      else                                                                                             \
        for (int j = 0; j < n; j++) { T a = a_[j * i0], b = b_[j * i1]; y_[j] = (EXPR); }               \
    });                                                                                                \
  } while (0)

#define BY_OP(T)                              \
  switch (op) {                               \
    case C_EQ: RUN(T, a == b); break;         \
    case C_LT: RUN(T, a < b); break;          \
    case C_LE: RUN(T, a <= b); break;         \
    case C_GT: RUN(T, a > b); break;          \
    default: RUN(T, a >= b);                  \
  }

/** y (bool) = a op b over the broadcast walk `desc` (operand 0: a, 1: b); t: T_* of a and b */
SMALL void KILN_EXPORT(kiln_compare)(int op, int t, const void *pa, const void *pb, u8 *y, const int *desc) {
  if (op >= C_AND) {
    switch (op) {
      case C_AND: RUN(u8, (a != 0) & (b != 0)); break;
      case C_OR: RUN(u8, (a != 0) | (b != 0)); break;
      default: RUN(u8, (a != 0) ^ (b != 0));
    }
    return;
  }
  switch (t) {
    case T_F32: BY_OP(float); break;
    case T_I32: BY_OP(i32); break;
    case T_I64: BY_OP(i64); break;
    case T_I8: BY_OP(i8); break;
    default: BY_OP(u8);
  }
}

SMALL void KILN_EXPORT(kiln_not_u8)(const u8 *x, u8 *y, int n) {
  for (int i = 0; i < n; i++) y[i] = x[i] == 0;
}
