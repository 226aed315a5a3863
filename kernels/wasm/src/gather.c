// Gather and GatherElements for the wasm backend on any dtype the arena holds (1, 4 or 8 bytes per
// element), int32 or int64 indices, negative ones counting from the end. An index outside
// [-n, n) is found before anything is written: kiln_index_check returns its position and the
// caller raises the reference's error (kernels/gather/wasm.ts).
#include "typed.h"

INLINE i64 index_at(const void *idx, int idx64, int i) {
  return idx64 ? ((const i64 *)idx)[i] : ((const i32 *)idx)[i];
}

/** position of the first of `count` indices outside [-n, n), or -1 */
SMALL int KILN_EXPORT(kiln_index_check)(const void *idx, int idx64, int count, int n) {
  for (int i = 0; i < count; i++) {
    i64 v = index_at(idx, idx64, i);
    if (v < -(i64)n || v >= n) return i;
  }
  return -1;
}

#define ROWS(T)                                                                  \
  do {                                                                           \
    const T *D = (const T *)data;                                                \
    T *O = (T *)out;                                                             \
    for (int r = 0; r < outer; r++)                                              \
      for (int j = 0; j < count; j++) {                                          \
        i64 v = index_at(idx, idx64, j);                                         \
        const T *src = D + ((i64)r * n + (v < 0 ? v + n : v)) * inner;           \
        if (inner == 1) *O++ = *src;                                             \
        else {                                                                   \
          for (int k = 0; k < inner; k++) O[k] = src[k];                         \
          O += inner;                                                            \
        }                                                                        \
      }                                                                          \
  } while (0)

/** Gather: out[r, j, :] = data[r, idx[j], :] over data [outer, n, inner]; indices checked already */
SMALL void KILN_EXPORT(kiln_gather)(const void *data, const void *idx, int idx64, void *out, int outer, int n, int count, int inner, int bytes) {
  if (inner * bytes >= 64) { // long rows: one bulk copy each
    const u8 *D = (const u8 *)data;
    u8 *O = (u8 *)out;
    const int row = inner * bytes;
    for (int r = 0; r < outer; r++)
      for (int j = 0; j < count; j++, O += row) {
        i64 v = index_at(idx, idx64, j);
        __builtin_memcpy(O, D + ((i64)r * n + (v < 0 ? v + n : v)) * row, row);
      }
    return;
  }
  switch (bytes) {
    case 1: ROWS(u8); break;
    case 4: ROWS(i32); break;
    default: ROWS(i64);
  }
}

// desc: rank, axis, n (data's size along axis), dims[rank] (the indices' and output's), dataStrides[rank]
#define ELEMENTS(T)                                                              \
  do {                                                                           \
    const T *D = (const T *)data;                                                \
    T *O = (T *)out;                                                             \
    for (int i = 0; i < total; i++) {                                            \
      i64 v = index_at(idx, idx64, i);                                           \
      O[i] = D[base + (v < 0 ? v + n : v) * sa];                                 \
      for (int d = rank - 1; d >= 0; d--) {                                      \
        if (d != axis) base += st[d];                                            \
        if (++ctr[d] < dims[d]) break;                                           \
        if (d != axis) base -= st[d] * dims[d];                                  \
        ctr[d] = 0;                                                              \
      }                                                                          \
    }                                                                            \
  } while (0)

/** GatherElements: out[p] = data[p with p[axis] = idx[p]]; indices checked already */
SMALL void KILN_EXPORT(kiln_gather_elements)(const void *data, const void *idx, int idx64, void *out, int bytes, const int *desc) {
  const int rank = desc[0], axis = desc[1], n = desc[2];
  const int *dims = desc + 3, *st = dims + rank;
  const i64 sa = st[axis];
  int total = 1;
  for (int d = 0; d < rank; d++) total *= dims[d];
  int ctr[BMAX] = {0};
  i64 base = 0;
  switch (bytes) {
    case 1: ELEMENTS(u8); break;
    case 4: ELEMENTS(i32); break;
    default: ELEMENTS(i64);
  }
}

/**
 * GatherND: desc = batch, tuples (per batch entry), k (tuple length), sliceBytes, batchBytes,
 * dims[k] (the indexed data axes), strideBytes[k]. Every index is checked before anything is
 * written: returns the position of the first outside [-dims[j], dims[j]) in the indices, or -1.
 */
SMALL int KILN_EXPORT(kiln_gather_nd)(const u8 *data, const void *idx, int idx64, u8 *out, const int *desc) {
  const int batch = desc[0], tuples = desc[1], k = desc[2], slice = desc[3], batchBytes = desc[4];
  const int *dims = desc + 5, *st = dims + k;
  const int total = batch * tuples * k;
  for (int i = 0; i < total; i++) {
    i64 v = index_at(idx, idx64, i), n = dims[i % k];
    if (v < -n || v >= n) return i;
  }
  for (int b = 0, i = 0; b < batch; b++)
    for (int t = 0; t < tuples; t++, out += slice) {
      i64 off = (i64)b * batchBytes;
      for (int j = 0; j < k; j++, i++) {
        i64 v = index_at(idx, idx64, i);
        off += (v < 0 ? v + dims[j] : v) * st[j];
      }
      __builtin_memcpy(out, data + off, slice);
    }
  return -1;
}
