// Cast between float32, float16, int32, int64, uint8, int8 and bool for the wasm backend, with the
// reference's conversions (kernels/cast/op.ts, which goes through JS numbers): float -> integer
// truncates toward zero and wraps to the target width (NaN and +-inf give 0), int64 -> anything
// goes through a double first (as Number(bigint) does), -> bool is "nonzero" (NaN is true).
#include "typed.h"

/** the integer a double truncates to, modulo 2^64 (NaN, +-inf: 0): BigInt(Math.trunc(d)) stored in a BigInt64Array */
static i64 wrap64(double d) {
  if (d != d || d == __builtin_inf() || d == -__builtin_inf()) return 0;
  double t = __builtin_trunc(d);
  if (t > -9223372036854775808.0 && t < 9223372036854775808.0) return (i64)t;
  // |t| >= 2^63: an integer m * 2^e with e >= 11; only bits below 2^64 survive the wrap
  u64 bits = __builtin_bit_cast(u64, t);
  int e = (int)((bits >> 52) & 0x7ff) - 1075;
  u64 m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
  u64 u = e >= 64 ? 0 : m << e;
  return (i64)(bits >> 63 ? 0 - u : u);
}

/** IEEE half bits to float: exact (core/float16.ts halfToFloat) */
static float half_to_float(unsigned h) {
  unsigned sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp == 0x1f) return frac ? __builtin_nanf("") : __builtin_bit_cast(float, sign | 0x7f800000u); // one NaN, as JS's
  if (exp == 0) return (sign ? -1.0f : 1.0f) * (float)frac * 0x1p-24f;
  return __builtin_bit_cast(float, sign | ((exp + 112) << 23) | (frac << 13));
}

/** float to IEEE half bits, nearest even: core/float16.ts floatToHalf step for step (NaN -> 0x7e00 with the sign) */
static unsigned short float_to_half(float f) {
  unsigned x = __builtin_bit_cast(unsigned, f);
  unsigned sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
  int exp = (x >> 23) & 0xff;
  if (exp == 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  int e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    int shift = 14 - e;
    unsigned half = 1u << (shift - 1), r = mant >> shift, rest = mant & ((1u << shift) - 1);
    if (rest > half || (rest == half && (r & 1))) r++;
    return sign | r;
  }
  unsigned r = mant >> 13, rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (r & 1))) {
    r++;
    if (r == 0x400) {
      r = 0;
      if (++e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** the source element as a double (int64 rounded to the nearest double, as Number() does) */
INLINE double load(const void *x, int t, int i) {
  switch (t) {
    case T_F32: return ((const float *)x)[i];
    case T_F16: return half_to_float(((const unsigned short *)x)[i]);
    case T_I32: return ((const i32 *)x)[i];
    case T_I64: return (double)((const i64 *)x)[i];
    case T_I8: return ((const i8 *)x)[i];
    default: return ((const u8 *)x)[i]; // uint8, bool
  }
}

/** y[i] = x[i] converted; xt, yt: T_* codes (different, both in memory) */
SMALL void KILN_EXPORT(kiln_cast)(const void *x, int xt, void *y, int yt, int n) {
  if (xt == T_I64 && yt == T_BOOL) { // no nonzero int64 rounds to 0.0: the same answer without the double
    for (int i = 0; i < n; i++) ((u8 *)y)[i] = ((const i64 *)x)[i] != 0;
    return;
  }
  if (xt != T_F32 && xt != T_F16 && xt != T_I64 && yt == T_I64) { // widening: exact
    for (int i = 0; i < n; i++) ((i64 *)y)[i] = (i64)load(x, xt, i);
    return;
  }
  switch (yt) {
    case T_F16: // through float32 first, as the reference's floatToHalf does
      for (int i = 0; i < n; i++) ((unsigned short *)y)[i] = float_to_half((float)load(x, xt, i));
      break;
    case T_F32:
      for (int i = 0; i < n; i++) ((float *)y)[i] = (float)load(x, xt, i);
      break;
    case T_BOOL:
      for (int i = 0; i < n; i++) ((u8 *)y)[i] = load(x, xt, i) != 0;
      break;
    case T_I64:
      for (int i = 0; i < n; i++) ((i64 *)y)[i] = wrap64(load(x, xt, i));
      break;
    case T_I32:
      for (int i = 0; i < n; i++) ((i32 *)y)[i] = (i32)wrap64(load(x, xt, i));
      break;
    case T_I8:
      for (int i = 0; i < n; i++) ((i8 *)y)[i] = (i8)wrap64(load(x, xt, i));
      break;
    default: // uint8
      for (int i = 0; i < n; i++) ((u8 *)y)[i] = (u8)wrap64(load(x, xt, i));
  }
}
