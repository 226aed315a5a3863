// Broadcasting binary arithmetic on f32 for the wasm backend. The output is viewed as
// [outer, mid, inner]; `form` says how the operands map onto it:
//   SAME:   both operands have the output's shape (outer = inner = 1)
//   B_MID:  a is full, b has `mid` elements indexed by the middle coordinate (a scalar: mid = 1;
//           a row vector: inner = 1; a per-channel [C,1,1]: inner = H*W)
//   A_MID:  the same with the roles swapped (order still matters for Sub and Div)
// kernels/elementwise-binary/wasm.ts finds the view or declines. y may alias a full operand.
#include "eltwise-math.h"

enum { F_SAME, F_B_MID, F_A_MID };

INLINE void run(int op, int form, const float *a, const float *b, float *y, int outer, int mid, int inner) {
  if (form == F_SAME) {
    int n = outer * mid * inner, i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, op4(op, wasm_v128_load(a + i), wasm_v128_load(b + i)));
    for (; i < n; i++) y[i] = op1(op, a[i], b[i]);
    return;
  }
  const int swap = form == F_A_MID;
  const float *full = swap ? b : a, *small = swap ? a : b;
  if (inner == 1) {
    // row broadcast: the small operand is a vector along the contiguous axis
    for (int o = 0; o < outer; o++) {
      const float *f = full + o * mid;
      float *yo = y + o * mid;
      int m = 0;
      for (; m + 4 <= mid; m += 4) {
        v128_t fv = wasm_v128_load(f + m), sv = wasm_v128_load(small + m);
        wasm_v128_store(yo + m, swap ? op4(op, sv, fv) : op4(op, fv, sv));
      }
      for (; m < mid; m++) yo[m] = swap ? op1(op, small[m], f[m]) : op1(op, f[m], small[m]);
    }
    return;
  }
  for (int o = 0; o < outer; o++) {
    for (int m = 0; m < mid; m++) {
      const float s = small[m];
      const v128_t sv = SPLAT(s);
      const float *f = full + (o * mid + m) * inner;
      float *yo = y + (o * mid + m) * inner;
      int i = 0;
      for (; i + 4 <= inner; i += 4) {
        v128_t fv = wasm_v128_load(f + i);
        wasm_v128_store(yo + i, swap ? op4(op, sv, fv) : op4(op, fv, sv));
      }
      for (; i < inner; i++) yo[i] = swap ? op1(op, s, f[i]) : op1(op, f[i], s);
    }
  }
}

int KILN_EXPORT(kiln_binary_f32)(int op, int form, const float *a, const float *b, float *y, int outer, int mid, int inner) {
  switch (op) {
    case B_ADD: run(B_ADD, form, a, b, y, outer, mid, inner); return 0;
    case B_SUB: run(B_SUB, form, a, b, y, outer, mid, inner); return 0;
    case B_MUL: run(B_MUL, form, a, b, y, outer, mid, inner); return 0;
    case B_DIV: run(B_DIV, form, a, b, y, outer, mid, inner); return 0;
    default: return -1;
  }
}
