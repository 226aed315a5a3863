// Row/column ranges of the 8-bit integer kernels (gemm-s8.c), so the wasm thread pool can split a
// call into parts (runtime/backends/wasm/thread-job.ts ROW_EXPORTS; the last two arguments are the
// part's unit range [u0, u1)). Integer sums are exact and every epilogue is per element, so any
// split gives the same bytes as one call.
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name
#define NR 8

void kiln_gemm_s16(const int16_t *a, int lda, const int16_t *bp, void *c, int ldc, int m, int n, int kp, int mode, const int32_t *bias, int bias_per_row, const float *mult, int mult_per_row, int zp, int lo, int hi, const uint8_t *table, int flip);
void kiln_dwconv_s16(const void *x, int is_signed, int xz, const int16_t *w, void *y, int batch, int channels, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int mode, const int32_t *bias, const float *mult, int zp, int lo, int hi, const uint8_t *table, int flip, int16_t *scratch);

/** kiln_gemm_s16 on rows [u0, u1) of A and C (by_rows), else on panels [u0, u1) of 8 columns. */
void KILN_EXPORT(kiln_gemm_s16_part)(const int16_t *a, int lda, const int16_t *bp, void *c, int ldc, int m, int n, int kp, int mode, const int32_t *bias, int bias_per_row, const float *mult, int mult_per_row, int zp, int lo, int hi, const uint8_t *table, int flip, int by_rows, int u0, int u1) {
  const int elt = mode == 0 ? 4 : 1; // int32 or 8-bit output
  if (by_rows) {
    kiln_gemm_s16(a + (long)u0 * lda, lda, bp, (uint8_t *)c + (long)u0 * ldc * elt, ldc, u1 - u0, n, kp, mode, bias && bias_per_row ? bias + u0 : bias, bias_per_row, mult && mult_per_row ? mult + u0 : mult, mult_per_row, zp, lo, hi, table, flip);
    return;
  }
  const int n0 = u0 * NR, n1 = u1 * NR < n ? u1 * NR : n;
  kiln_gemm_s16(a, lda, bp + (long)u0 * kp * NR, (uint8_t *)c + (long)n0 * elt, ldc, m, n1 - n0, kp, mode, bias && !bias_per_row ? bias + n0 : bias, bias_per_row, mult && !mult_per_row ? mult + n0 : mult, mult_per_row, zp, lo, hi, table, flip);
}

/** kiln_dwconv_s16 on channels [u0, u1) of the batch * channels planes (scratch: one plane). */
void KILN_EXPORT(kiln_dwconv_s16_part)(const void *x, int is_signed, int xz, const int16_t *w, void *y, int batch, int channels, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int mode, const int32_t *bias, const float *mult, int zp, int lo, int hi, const uint8_t *table, int flip, int16_t *scratch, int u0, int u1) {
  (void)batch;
  const int elt = mode == 0 ? 4 : 1;
  for (int u = u0; u < u1;) {
    const int c0 = u % channels, c1 = channels < c0 + (u1 - u) ? channels : c0 + (u1 - u);
    kiln_dwconv_s16((const uint8_t *)x + (long)u * ih * iw, is_signed, xz, w + (long)c0 * kh * kw, (uint8_t *)y + (long)u * oh * ow * elt, 1, c1 - c0, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, mode, bias ? bias + c0 : 0, mult ? mult + c0 : 0, zp, lo, hi, table, flip, scratch);
    u += c1 - c0;
  }
}
