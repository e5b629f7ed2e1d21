// The format tables (formats.h).
#include "formats.h"

#include <string.h>

// bitsandbytes' NF4 code book as float32 (lib/fallback/nf4.ts holds the same values).
const float lb_nf4_codebook[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

namespace {

const lb_format kFormats[] = {
#define LB_FORMAT_ROW(dt, name, bits, sg, qmin, qmax, qsym, book) \
  {dt, name, bits, (uint8_t)(8 / (bits)), sg, qmin, qmax, qsym, book},
    LB_FORMAT_LIST(LB_FORMAT_ROW)
#undef LB_FORMAT_ROW
};

const lb_block_format kBlockFormats[] = {
#define LB_BLOCK_ROW(name, elem, g, sg, sc, off, zp, bytes) {name, elem, g, sg, sc, off, zp, bytes},
    LB_BLOCK_FORMAT_LIST(LB_BLOCK_ROW)
#undef LB_BLOCK_ROW
};

}  // namespace

const lb_format *lb_format_of(lb_dtype t) {
  for (const lb_format &f : kFormats)
    if (f.dtype == t) return &f;
  return nullptr;
}

int lb_block_format_count() { return (int)(sizeof kBlockFormats / sizeof kBlockFormats[0]); }
const lb_block_format *lb_block_format_at(int i) {
  return i >= 0 && i < lb_block_format_count() ? &kBlockFormats[i] : nullptr;
}

float lb_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalize (every binary16 subnormal is a float32 normal)
    int e = 113;
    uint32_t m = man;
    while (!(m & 0x400)) {
      m <<= 1;
      --e;
    }
    bits = sign | ((uint32_t)e << 23) | ((m & 0x3ff) << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
