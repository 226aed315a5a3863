// kiln.QLinearLookup: y[i] = table[x[i]] over bytes (int8 x: the sign bit flipped first, so the
// table index is x + 128). A scalar loop: wasm SIMD has no 256-entry byte shuffle, and the step is
// memory-bound next to the convs it sits between.
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

void KILN_EXPORT(kiln_lookup_u8)(const uint8_t *x, const uint8_t *table, uint8_t *y, int n, int flip) {
  const uint8_t mask = flip ? 0x80 : 0;
  for (int i = 0; i < n; i++) y[i] = table[(uint8_t)(x[i] ^ mask)];
}

// The same with a table of 256 floats (DequantizeLinear -> activation whose result stays float).
void KILN_EXPORT(kiln_lookup_f32)(const uint8_t *x, const float *table, float *y, int n, int flip) {
  const uint8_t mask = flip ? 0x80 : 0;
  for (int i = 0; i < n; i++) y[i] = table[(uint8_t)(x[i] ^ mask)];
}
