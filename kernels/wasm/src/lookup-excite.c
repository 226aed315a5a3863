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

// The 4 lanes of kiln_reduce_rows_f32's accumulator as 4 scalar sums (lane k takes elements j = k
// mod 4 in order: the same float32 additions), so no vector is built from gathered lanes (V8 turns
// each lane insert into its own instructions: 4x slower than scalar loads). 8 bytes per step read
// as one 64-bit load; the per-lane order is unchanged.
static inline void mean_rows(const uint8_t *x, uint64_t m, const float *table, int rows, int len, float s, int z, int lo, int hi, uint8_t *y) {
  for (int r = 0; r < rows; r++, x += len) {
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    int j = 0;
    for (; j + 8 <= len; j += 8) {
      uint64_t b;
      __builtin_memcpy(&b, x + j, 8);
      b ^= m;
      a0 += table[b & 255];
      a1 += table[(b >> 8) & 255];
      a2 += table[(b >> 16) & 255];
      a3 += table[(b >> 24) & 255];
      a0 += table[(b >> 32) & 255];
      a1 += table[(b >> 40) & 255];
      a2 += table[(b >> 48) & 255];
      a3 += table[b >> 56];
    }
    if (j + 4 <= len) {
      a0 += table[x[j] ^ (uint8_t)m];
      a1 += table[x[j + 1] ^ (uint8_t)m];
      a2 += table[x[j + 2] ^ (uint8_t)m];
      a3 += table[x[j + 3] ^ (uint8_t)m];
      j += 4;
    }
    float v = (a0 + a1) + (a2 + a3);
    for (; j < len; j++) v += table[x[j] ^ (uint8_t)m];
    y[r] = quantize1(v / (float)len, s, z, lo, hi);
  }
}

void KILN_EXPORT(kiln_lookup_mean_q8)(const uint8_t *x, int flip, const float *table, int rows, int len, float s, int z, int lo, int hi, uint8_t *y) {
  mean_rows(x, flip ? 0x8080808080808080ull : 0, table, rows, len, s, z, lo, hi, y);
}

// With one b per row, a row's output is a function of its input byte alone: rows of at least
// ROW_TABLE_MIN bytes look every byte up in a table of those outputs, computed for the 16-entry
// chunks of table indices the row holds. Each entry goes through quantize8 as the direct path's
// lanes do, so the bytes are the same. The tables persist across rows and runs in a cache keyed by
// b's bits (CACHE_SLOTS slots, direct-mapped): b is an excitation, HardSigmoid of a quantized
// value, so one node sees a few hundred distinct values at most and rows reuse each other's entries.
#define ROW_TABLE_MIN 32
// a row whose indices span at most this many 16-entry chunks looks them up 16 at a time (i8x16.swizzle per chunk)
#define SWIZZLE_CHUNKS 8
#define CACHE_SLOTS 256
// one slot: b's bits, the chunks computed (bit c: entries 16c..16c+15), the 256 entries
typedef struct {
  uint32_t key, chunks;
  uint8_t entries[256];
} RowTable;

// QuantizeLinear(a * b) of 8 lanes (a0 a1, b0 b1): the float32 product, then kiln_quantize_f32's
// division, clamped (integer bounds: clamp and round commute) and rounded half to even by adding
// 1.5 * 2^23 (gemm-s8.c's epilogue does the same); NaN (pmax/pmin keep it) gives z as kiln_quantize_f32
// does. The 8 bytes in the low half.
typedef struct {
  v128_t s, lo, hi, z, magic, bias;
} Quant;

static inline __attribute__((always_inline)) v128_t quantize8(const Quant *q, v128_t a0, v128_t a1, v128_t b0, v128_t b1) {
  const v128_t p0 = wasm_f32x4_div(wasm_f32x4_mul(a0, b0), q->s);
  const v128_t p1 = wasm_f32x4_div(wasm_f32x4_mul(a1, b1), q->s);
  // pmax/pmin: one instruction each on x64 (max/min ~7); with p first a NaN stays NaN (selected below)
  const v128_t f0 = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(p0, q->lo), q->hi), q->magic);
  const v128_t f1 = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(p1, q->lo), q->hi), q->magic);
  const v128_t q0 = wasm_v128_bitselect(wasm_i32x4_sub(f0, q->bias), q->z, wasm_f32x4_eq(p0, p0));
  const v128_t q1 = wasm_v128_bitselect(wasm_i32x4_sub(f1, q->bias), q->z, wasm_f32x4_eq(p1, p1));
  const v128_t h = wasm_i16x8_narrow_i32x4(q0, q1);
  return wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
}

// a: rows x inner bytes, or with a_per_row one byte per row (an SE scale times the feature map, the
// quantized side being the pooled one); b: b_rows floats (row r reads b[r % b_rows]) or, with
// b_full, one per element.
static void lookup_mul(const uint8_t *a, int a_per_row, int flip, const float *table, const float *b, int b_rows, int b_full, int rows, int inner, float s, int z, int lo, int hi, RowTable *cache, const float *btable, int bflip, uint8_t *y);

// cache: CACHE_SLOTS RowTables (256 x 264 bytes: kernels/qlinear-excite/wasm.ts) that live as long as the
// node's table, s and z, zeroed before the first call; unused with b_full. btable (one b per row
// only): b holds bytes, row r's value is btable[byte ^ (bflip ? 0x80 : 0)] (the excitation's lookup).
void KILN_EXPORT(kiln_lookup_mul_q8)(const uint8_t *a, int flip, const float *table, const float *b, int b_rows, int b_full, int rows, int inner, float s, int z, int lo, int hi, RowTable *cache, const float *btable, int bflip, uint8_t *y) {
  lookup_mul(a, 0, flip, table, b, b_rows, b_full, rows, inner, s, z, lo, hi, cache, btable, bflip, y);
}

// a one byte per row, b one float per element: QuantizeLinear(table[a[r]] * b[i]); the float32
// product is the same either way round, so the bytes are the unfused Mul's.
void KILN_EXPORT(kiln_lookup_rowmul_q8)(const uint8_t *a, int flip, const float *table, const float *b, int rows, int inner, float s, int z, int lo, int hi, uint8_t *y) {
  lookup_mul(a, 1, flip, table, b, 1, 1, rows, inner, s, z, lo, hi, 0, 0, 0, y);
}

// One row through a table of its outputs: y[j] = row[a[j] ^ m] for the table indices a row holds.
static void row_by_table(const uint8_t *a, uint8_t m, const float *table, float br, const Quant *q, int inner, RowTable *cache, uint8_t *y) {
  const v128_t vm = wasm_i8x16_splat((int8_t)m);
  v128_t mn = wasm_i8x16_splat(-1), mx = wasm_i8x16_splat(0);
  int j = 0;
  for (; j + 16 <= inner; j += 16) {
    const v128_t v = wasm_v128_xor(wasm_v128_load(a + j), vm);
    mn = wasm_u8x16_min(mn, v);
    mx = wasm_u8x16_max(mx, v);
  }
  uint8_t lanes[32];
  wasm_v128_store(lanes, mn);
  wasm_v128_store(lanes + 16, mx);
  int imin = 255, imax = 0;
  for (int t = 0; t < 16; t++) {
    imin = lanes[t] < imin ? lanes[t] : imin;
    imax = lanes[16 + t] > imax ? lanes[16 + t] : imax;
  }
  for (int t = j; t < inner; t++) {
    const int v = a[t] ^ m;
    imin = v < imin ? v : imin;
    imax = v > imax ? v : imax;
  }
  uint32_t bits;
  __builtin_memcpy(&bits, &br, 4);
  RowTable *slot = cache + ((bits * 0x9E3779B1u) >> 24) % CACHE_SLOTS;
  if (slot->key != bits) {
    slot->key = bits;
    slot->chunks = 0;
  }
  // entries for the missing 16-entry chunks from imin's to imax's, 8 at a time (256 is a multiple of 16: none passes the table's end)
  uint8_t *row = slot->entries;
  const v128_t vb = wasm_f32x4_splat(br);
  const int c0 = imin >> 4, c1 = imax >> 4;
  for (int c = c0; c <= c1; c++) {
    if (slot->chunks >> c & 1) continue;
    for (int v = c << 4; v < (c + 1) << 4; v += 8) wasm_v128_store64_lane(row + v, quantize8(q, wasm_v128_load(table + v), wasm_v128_load(table + v + 4), vb, vb), 0);
    slot->chunks |= 1u << c;
  }
  j = 0;
  if (c1 - c0 < SWIZZLE_CHUNKS) {
    // 16 bytes at a time: each chunk's swizzle gives its entry where the index falls in it, 0 elsewhere (index - 16c >= 16)
    for (; j + 16 <= inner; j += 16) {
      const v128_t v = wasm_v128_xor(wasm_v128_load(a + j), vm);
      v128_t out = wasm_i8x16_splat(0);
      for (int c = c0; c <= c1; c++) out = wasm_v128_or(out, wasm_i8x16_swizzle(wasm_v128_load(row + (c << 4)), wasm_i8x16_sub(v, wasm_i8x16_splat((int8_t)(c << 4)))));
      wasm_v128_store(y + j, out);
    }
  }
  // 8 bytes per step: one 64-bit load and store around 8 table reads
  const uint64_t m8 = m ? 0x8080808080808080ull : 0;
  for (; j + 8 <= inner; j += 8) {
    uint64_t v, o;
    __builtin_memcpy(&v, a + j, 8);
    v ^= m8;
    o = (uint64_t)row[v & 255] | (uint64_t)row[(v >> 8) & 255] << 8 | (uint64_t)row[(v >> 16) & 255] << 16 | (uint64_t)row[(v >> 24) & 255] << 24;
    o |= (uint64_t)row[(v >> 32) & 255] << 32 | (uint64_t)row[(v >> 40) & 255] << 40 | (uint64_t)row[(v >> 48) & 255] << 48 | (uint64_t)row[v >> 56] << 56;
    __builtin_memcpy(y + j, &o, 8);
  }
  for (; j < inner; j++) y[j] = row[a[j] ^ m];
}

static void lookup_mul(const uint8_t *a, int a_per_row, int flip, const float *table, const float *b, int b_rows, int b_full, int rows, int inner, float s, int z, int lo, int hi, RowTable *cache, const float *btable, int bflip, uint8_t *y) {
  const uint8_t m = flip ? 0x80 : 0, bm = bflip ? 0x80 : 0;
  const Quant q = { wasm_f32x4_splat(s), wasm_f32x4_splat((float)(lo - z)), wasm_f32x4_splat((float)(hi - z)), wasm_i32x4_splat(z), wasm_f32x4_splat(12582912.0f), wasm_i32x4_splat(0x4B400000 - z) };
  long i = 0;
  for (int r = 0, rb = 0; r < rows; r++, rb = rb + 1 == b_rows ? 0 : rb + 1) {
    const float br = b_full ? 0.0f : btable ? btable[((const uint8_t *)b)[rb] ^ bm] : b[rb];
    const v128_t ar = wasm_f32x4_splat(a_per_row ? table[a[r] ^ m] : 0.0f);
    if (!b_full && !a_per_row && inner >= ROW_TABLE_MIN) {
      row_by_table(a + i, m, table, br, &q, inner, cache, y + i);
      i += inner;
      continue;
    }
    for (int j = 0; j < inner; j += 8, i += 8) {
      // the row's last < 8 bytes go through a zero-padded copy (the SIMD and scalar forms agree on every value)
      const int nc = inner - j < 8 ? inner - j : 8;
      uint8_t pa[8] = { 0 }, py[8];
      float pb[8] = { 0 };
      const uint8_t *src = a + i;
      const float *bsrc = b + i;
      if (nc < 8) {
        if (!a_per_row) for (int t = 0; t < nc; t++) pa[t] = a[i + t];
        if (b_full) for (int t = 0; t < nc; t++) pb[t] = b[i + t];
        src = pa;
        bsrc = pb;
      }
      v128_t b0 = wasm_f32x4_splat(br), b1 = b0;
      if (b_full) {
        b0 = wasm_v128_load(bsrc);
        b1 = wasm_v128_load(bsrc + 4);
      }
      const v128_t bytes = quantize8(&q, a_per_row ? ar : gather4(table, src, m), a_per_row ? ar : gather4(table, src + 4, m), b0, b1);
      if (nc == 8) {
        wasm_v128_store64_lane(y + i, bytes, 0);
        continue;
      }
      wasm_v128_store64_lane(py, bytes, 0);
      for (int t = 0; t < nc; t++) y[i + t] = py[t];
      i -= 8 - nc; // the loop's step, less the lanes past the row
    }
  }
}
_Static_assert(sizeof(RowTable) * CACHE_SLOTS == 67584, "kernels/qlinear-excite/wasm.ts ROW_CACHE_BYTES");
