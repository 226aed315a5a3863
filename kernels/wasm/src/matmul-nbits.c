// com.microsoft MatMulNBits (4-bit and 8-bit blocks) for Kiln's wasm backend: Y = A * W^T (+ bias)
// with w = (q - zero_point) * scale per (row n, block), f32 accumulation as onnxruntime's default
// accuracy level. The weights stay packed; kernels/matmul-nbits/wasm.ts repacks them once at
// session creation so that SIMD unpacks runs of consecutive k:
//   4-bit: per group of G = min(32, block) weights, byte j holds q[j] (low nibble) and q[j + G/2]
//   (high nibble), so the low nibbles of G/2 bytes are weights 0..G/2-1 and the high ones the rest;
//   8-bit: bytes as they are.
// Per block: s = sum over k of a[k] * (q[k] - zp) in f32 (q - zp exact), then acc += scale * s.
// Blocks past K (a partial last block) are read up to K only.
#include <wasm_simd128.h>
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

static inline __attribute__((always_inline)) v128_t fma4(v128_t acc, v128_t a, v128_t b) {
#ifdef KILN_RELAXED
  return wasm_f32x4_relaxed_madd(a, b, acc);
#else
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
#endif
}

// 8 weights (u8 lanes 0..7 of v, already one weight per byte) minus zp, times a[0..7], into acc
static inline __attribute__((always_inline)) v128_t dot8(v128_t acc, v128_t v8, const float *a, v128_t zp) {
  const v128_t w16 = wasm_u16x8_extend_low_u8x16(v8);
  const v128_t w0 = wasm_f32x4_sub(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_low_u16x8(w16)), zp);
  const v128_t w1 = wasm_f32x4_sub(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_high_u16x8(w16)), zp);
  acc = fma4(acc, wasm_v128_load(a), w0);
  return fma4(acc, wasm_v128_load(a + 4), w1);
}

static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// One weight of the repacked layout (scalar tails).
static inline int weight_at(const uint8_t *row, int bits, int bs, int k) {
  if (bits == 8) return row[k];
  const int blk = k / bs, in = k % bs, g = bs < 32 ? bs : 32, grp = in / g, j = in % g, half = g / 2;
  const uint8_t byte = row[(long)blk * (bs / 2) + grp * half + (j % half)];
  return j < half ? (byte & 15) : (byte >> 4);
}

void KILN_EXPORT(kiln_nbits_f32)(const float *a, int m, int k, const uint8_t *b, int bits, int bs, int nblocks, const float *scales, const float *zps, const float *bias, float *y, int n) {
  const long row_bytes = (long)nblocks * bs * bits / 8;
  const v128_t mask = wasm_i8x16_splat(15);
  for (int col = 0; col < n; col++) {
    const uint8_t *row = b + col * row_bytes;
    const float *sc = scales + (long)col * nblocks, *zr = zps + (long)col * nblocks;
    for (int r = 0; r < m; r++) {
      const float *ar = a + (long)r * k;
      v128_t acc = wasm_f32x4_splat(0.0f);
      float tail = 0.0f;
      for (int blk = 0; blk < nblocks; blk++) {
        const int k0 = blk * bs;
        const v128_t zp = wasm_f32x4_splat(zr[blk]);
        v128_t s = wasm_f32x4_splat(0.0f);
        if (k0 + bs <= k) {
          const float *ab = ar + k0;
          if (bits == 8) {
            const uint8_t *q = row + k0;
            for (int j = 0; j < bs; j += 16) {
              const v128_t v = wasm_v128_load(q + j);
              s = dot8(s, v, ab + j, zp);
              s = dot8(s, wasm_i8x16_shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), ab + j + 8, zp);
            }
          } else if (bs >= 32) {
            const uint8_t *q = row + (long)blk * (bs / 2);
            for (int j = 0; j < bs; j += 32) {
              const v128_t v = wasm_v128_load(q + j / 2);
              const v128_t lo = wasm_v128_and(v, mask), hi = wasm_u8x16_shr(v, 4);
              s = dot8(s, lo, ab + j, zp);
              s = dot8(s, wasm_i8x16_shuffle(lo, lo, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), ab + j + 8, zp);
              s = dot8(s, hi, ab + j + 16, zp);
              s = dot8(s, wasm_i8x16_shuffle(hi, hi, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), ab + j + 24, zp);
            }
          } else { // block of 16: 8 bytes
            const v128_t v = wasm_v128_load64_zero(row + (long)blk * 8);
            s = dot8(s, wasm_v128_and(v, mask), ab, zp);
            s = dot8(s, wasm_u8x16_shr(v, 4), ab + 8, zp);
          }
          acc = fma4(acc, s, wasm_f32x4_splat(sc[blk]));
        } else {
          float st = 0.0f;
          for (int kk = k0; kk < k; kk++) st += ar[kk] * ((float)weight_at(row, bits, bs, kk) - zr[blk]);
          tail += st * sc[blk];
        }
      }
      y[(long)r * n + col] = hsum(acc) + tail + (bias ? bias[col] : 0.0f);
    }
  }
}
