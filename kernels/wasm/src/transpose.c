// Permuted and strided copies (Transpose, DepthToSpace, SpaceToDepth, Slice: any walk of the input
// with a stride per output axis, negative ones included) on 32-bit elements for the wasm backend.
// The caller (kernels/transpose/wasm.ts) merges axes that stay adjacent and drops size-1 axes, then
// describes the output as `rank` dims with the input's element stride along each (desc: rank,
// dims[rank], strides[rank], i32). The last output axis is the inner loop: a straight copy where
// its input stride is 1; where instead the axis before it is contiguous in the input (a 2-D
// transpose at the core, e.g. [0,2,3,1]), 4x4 tiles are loaded as 4 vectors and transposed in
// registers; any other axis order gathers element by element.
#include "vmath.h"

#define MAX_RANK 8

INLINE void tile4x4(const float *x, int sx, float *y, int sy) {
  // rows of the tile in the input: x + j * sx, 4 contiguous values along the output's i axis
  v128_t r0 = wasm_v128_load(x), r1 = wasm_v128_load(x + sx), r2 = wasm_v128_load(x + 2 * sx), r3 = wasm_v128_load(x + 3 * sx);
  v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  wasm_v128_store(y, wasm_i64x2_shuffle(t0, t1, 0, 2));
  wasm_v128_store(y + sy, wasm_i64x2_shuffle(t0, t1, 1, 3));
  wasm_v128_store(y + 2 * sy, wasm_i64x2_shuffle(t2, t3, 0, 2));
  wasm_v128_store(y + 3 * sy, wasm_i64x2_shuffle(t2, t3, 1, 3));
}

/** out[i][j] = in[i * 1 + j * sj] for i < ni, j < nj: the output rows are nj long. */
INLINE void transpose2d(const float *x, float *y, int ni, int nj, int sj) {
  int i = 0;
  for (; i + 4 <= ni; i += 4) {
    int j = 0;
    for (; j + 4 <= nj; j += 4) tile4x4(x + i + j * sj, sj, y + i * nj + j, nj);
    for (; j < nj; j++)
      for (int ii = i; ii < i + 4; ii++) y[ii * nj + j] = x[ii + j * sj];
  }
  for (; i < ni; i++)
    for (int j = 0; j < nj; j++) y[i * nj + j] = x[i + j * sj];
}

INLINE void copy(const float *x, float *y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_v128_load(x + i));
  for (; i < n; i++) y[i] = x[i];
}

int KILN_EXPORT(kiln_transpose_f32)(const float *x, float *y, const int *desc) {
  int rank = desc[0];
  if (rank < 0 || rank > MAX_RANK) return -1;
  const int *dims = desc + 1, *strides = desc + 1 + rank;
  if (rank == 0) {
    y[0] = x[0];
    return 0;
  }
  int inner = dims[rank - 1], is = strides[rank - 1];
  // the block the inner loops cover: the last axis, or the last two for a 2-D core
  int core2 = rank >= 2 && is != 1 && strides[rank - 2] == 1;
  int outerRank = rank - (core2 ? 2 : 1);
  int blockOut = core2 ? dims[rank - 2] * inner : inner;
  int outer = 1;
  for (int d = 0; d < outerRank; d++) outer *= dims[d];
  int idx[MAX_RANK] = {0};
  int base = 0;
  for (int o = 0; o < outer; o++) {
    float *yo = y + o * blockOut;
    if (core2) transpose2d(x + base, yo, dims[rank - 2], inner, is);
    else if (is == 1) copy(x + base, yo, inner);
    else
      for (int j = 0; j < inner; j++) yo[j] = x[base + j * is];
    // odometer over the outer axes
    for (int d = outerRank - 1; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < dims[d]) break;
      base -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
  return 0;
}

/** rows x len floats from src (row stride srcStride) to dst (row stride dstStride): Concat's and Split's copies. */
void KILN_EXPORT(kiln_copy_rows_f32)(const float *src, int srcStride, float *dst, int dstStride, int rows, int len) {
  for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride) copy(src, dst, len);
}

/**
 * The strided copy of kiln_transpose_f32 (same desc) on 1-byte elements (uint8, int8, bool): a
 * scalar walk, built for size; runs with stride 1 are one memory.copy each.
 */
__attribute__((minsize)) void KILN_EXPORT(kiln_strided_copy_u8)(const unsigned char *x, unsigned char *y, const int *desc) {
  const int rank = desc[0];
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  const int *dims = desc + 1, *strides = desc + 1 + rank;
  const int inner = dims[rank - 1], is = strides[rank - 1];
  int outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= dims[d];
  int idx[MAX_RANK] = {0};
  int base = 0;
  for (int o = 0; o < outer; o++, y += inner) {
    if (is == 1) __builtin_memcpy(y, x + base, inner);
    else
      for (int j = 0; j < inner; j++) y[j] = x[base + j * is];
    for (int d = rank - 2; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < dims[d]) break;
      base -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/** kiln_copy_rows_f32 in bytes (strides and length): Concat's and Split's copies of 1-byte elements. */
void KILN_EXPORT(kiln_copy_rows_u8)(const unsigned char *src, int srcStride, unsigned char *dst, int dstStride, int rows, int len) {
  for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride) __builtin_memcpy(dst, src, len);
}
