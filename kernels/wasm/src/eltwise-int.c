// Add / Sub / Mul on int32 and int64 for the wasm backend, both operands broadcast to the output
// (typed.h's walk). Integers wrap modulo 2^32 / 2^64 (two's complement), as onnxruntime's C++ does;
// mostly shape and index arithmetic on small tensors, so scalar loops built for size.
#include "typed.h"

enum { I_ADD, I_SUB, I_MUL };

#define IRUN(T, EXPR)                                                         \
  do {                                                                        \
    const T *A = (const T *)pa, *B = (const T *)pb;                           \
    T *Y = (T *)py;                                                           \
    BWALK(desc, {                                                             \
      for (int j = 0; j < n; j++) {                                           \
        T a = A[o0 + j * i0], b = B[o1 + j * i1];                             \
        Y[oy + j] = (EXPR);                                                   \
      }                                                                       \
    });                                                                       \
  } while (0)

// unsigned arithmetic: signed overflow is undefined in C, the wrap is what we want
#define IBY_OP(T, U)                                   \
  switch (op) {                                        \
    case I_ADD: IRUN(T, (T)((U)a + (U)b)); break;      \
    case I_SUB: IRUN(T, (T)((U)a - (U)b)); break;      \
    default: IRUN(T, (T)((U)a * (U)b));                \
  }

/** y = a op b over the broadcast walk `desc`; t: T_I32 or T_I64 */
SMALL void KILN_EXPORT(kiln_binary_int)(int op, int t, const void *pa, const void *pb, void *py, const int *desc) {
  if (t == T_I64) IBY_OP(i64, u64)
  else IBY_OP(i32, unsigned)
}
