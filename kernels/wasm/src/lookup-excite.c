// Squeeze-excite on 8-bit activations (kernels/qlinear-excite): the float tensor a QDQ graph keeps
// between a quantized conv and the next QuantizeLinear is table[x] for a 256-entry float table
// (DequantizeLinear's values, or an activation's: kiln.QLinearLookup), so it is never written:
//   kiln_lookup_mean_q8: QuantizeLinear(GlobalAveragePool(table[x])) per row of len bytes;
//   kiln_lookup_mul_q8:  QuantizeLinear(table[a] * b), b one float per row (or per element).
// Each reproduces the separate wasm steps' float32 operations in their order: the mean is
// kiln_reduce_rows_f32's (4 lane sums, (l0 + l1) + (l2 + l3), the tail, / len), the product one
// float32 multiply, the quantization kiln_quantize_f32's (x / s rounded half to even, clamped to
// the type's range minus z, + z; NaN -> z), so the bytes are those of the unfused steps.
#include <wasm_simd128.h>
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

static inline uint8_t quantize1(float v, float s, int z, int lo, int hi) {
  const float f = __builtin_nearbyintf(v / s);
  const int q = f != f ? z : f < (float)(lo - z) ? lo : f > (float)(hi - z) ? hi : (int)f + z;
  return (uint8_t)q;
}

static inline v128_t gather4(const float *t, const uint8_t *x, uint8_t m) {
  return wasm_f32x4_make(t[x[0] ^ m], t[x[1] ^ m], t[x[2] ^ m], t[x[3] ^ m]);
}

void KILN_EXPORT(kiln_lookup_mean_q8)(const uint8_t *x, int flip, const float *table, int rows, int len, float s, int z, int lo, int hi, uint8_t *y) {
  const uint8_t m = flip ? 0x80 : 0;
  for (int r = 0; r < rows; r++, x += len) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= len; j += 4) acc = wasm_f32x4_add(acc, gather4(table, x + j, m));
    float v = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) + (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
    for (; j < len; j++) v += table[x[j] ^ m];
    y[r] = quantize1(v / (float)len, s, z, lo, hi);
  }
}

// a: rows x inner bytes; b: b_rows floats (row r reads b[r % b_rows]) or, with b_full, one per element.
void KILN_EXPORT(kiln_lookup_mul_q8)(const uint8_t *a, int flip, const float *table, const float *b, int b_rows, int b_full, int rows, int inner, float s, int z, int lo, int hi, uint8_t *y) {
  const uint8_t m = flip ? 0x80 : 0;
  const v128_t vs = wasm_f32x4_splat(s), vlo = wasm_f32x4_splat((float)(lo - z)), vhi = wasm_f32x4_splat((float)(hi - z)), vz = wasm_i32x4_splat(z);
  long i = 0;
  for (int r = 0; r < rows; r++) {
    const float br = b_full ? 0.0f : b[r % b_rows];
    int j = 0;
    for (; j + 8 <= inner; j += 8, i += 8) {
      v128_t b0 = wasm_f32x4_splat(br), b1 = b0;
      if (b_full) {
        b0 = wasm_v128_load(b + i);
        b1 = wasm_v128_load(b + i + 4);
      }
      v128_t f0 = wasm_f32x4_nearest(wasm_f32x4_div(wasm_f32x4_mul(gather4(table, a + i, m), b0), vs));
      v128_t f1 = wasm_f32x4_nearest(wasm_f32x4_div(wasm_f32x4_mul(gather4(table, a + i + 4, m), b1), vs));
      f0 = wasm_f32x4_min(wasm_f32x4_max(f0, vlo), vhi); // NaN stays NaN and truncates to 0
      f1 = wasm_f32x4_min(wasm_f32x4_max(f1, vlo), vhi);
      const v128_t h = wasm_i16x8_narrow_i32x4(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(f0), vz), wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(f1), vz));
      wasm_v128_store64_lane(y + i, wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), 0);
    }
    for (; j < inner; j++, i++) y[i] = quantize1(table[a[i] ^ m] * (b_full ? b[i] : br), s, z, lo, hi);
  }
}
