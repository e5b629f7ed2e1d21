// Weight and value formats as data: one table says what each dtype is (bits, signedness,
// storage range, values per byte, the symmetric calibration bound, nf4's code book), and a
// second says how the ecosystem's block formats (ggml's Q8_0, Q4_0, Q4_K) are built from them:
// group size, scale encoding, zero point or min. Every driver reads these rows instead of
// keeping its own switch over dtypes.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lowbit.h"

struct lb_format {
  lb_dtype dtype;
  const char *name;
  uint8_t bits;       // 8, 4 or 2
  uint8_t per_byte;   // values per byte when packed (8 / bits)
  bool is_signed;
  int16_t qmin, qmax; // storage range
  int16_t qmax_sym;   // symmetric calibration bound: 127, 7, 1 (SPEC §3); 0 for nf4
  const float *codebook;  // nf4: the 16 values, ascending; else null
};

// X(dtype, name, bits, signed, qmin, qmax, qmax_sym, codebook)
#define LB_FORMAT_LIST(X)                               \
  X(LB_INT8, "int8", 8, true, -128, 127, 127, nullptr)  \
  X(LB_UINT8, "uint8", 8, false, 0, 255, 127, nullptr)  \
  X(LB_INT4, "int4", 4, true, -8, 7, 7, nullptr)        \
  X(LB_UINT4, "uint4", 4, false, 0, 15, 7, nullptr)     \
  X(LB_INT2, "int2", 2, true, -2, 1, 1, nullptr)        \
  X(LB_UINT2, "uint2", 2, false, 0, 3, 1, nullptr)      \
  X(LB_NF4, "nf4", 4, false, 0, 15, 0, lb_nf4_codebook)

extern const float lb_nf4_codebook[16];

// The row of `t`, or null for a value that is no lb_dtype.
const lb_format *lb_format_of(lb_dtype t);
inline bool lb_is_8bit(lb_dtype t) { return t == LB_INT8 || t == LB_UINT8; }
// Bytes of one packed row of n values.
inline size_t lb_row_bytes(const lb_format &f, size_t n) { return (n + f.per_byte - 1) / f.per_byte; }
// Value i of a packed stream (SPEC §2: the lowest index in the lowest bits), sign-extended.
inline int lb_unpack_value(const lb_format &f, const uint8_t *p, size_t i) {
  if (f.bits == 8) return f.is_signed ? (int)(int8_t)p[i] : (int)p[i];
  const unsigned shift = (unsigned)(i % f.per_byte) * f.bits, mask = (1u << f.bits) - 1;
  const int u = (int)((p[i / f.per_byte] >> shift) & mask);
  return f.is_signed && u > (int)(mask >> 1) ? u - (int)(mask + 1) : u;
}

// ---- block formats of the ecosystem ----------------------------------------------------
// How a container format maps onto the engine: an element dtype, G values per group, and the
// encoding of the group's scale and offset. The engine's packed weights hold float32 scales and
// int32 zero points (or float mins) per group, so every row below packs into the one engine;
// reading GGUF files is not built yet (lb_prepack takes lb_weights_desc, whose scales are
// float32 / float16 and whose offsets are integer zero points).
enum lb_scale_enc {
  LB_SCALE_ENC_F32,     // one float32 per group
  LB_SCALE_ENC_F16,     // one binary16 per group
  LB_SCALE_ENC_U6_F16,  // 6-bit unsigned per group times a binary16 per super-block (Q4_K)
};
enum lb_offset_enc {
  LB_OFFSET_NONE,       // x = q * s
  LB_OFFSET_ZP,         // x = (q - zp) * s, an integer zp per group
  LB_OFFSET_ZP_FIXED,   // x = (q - c) * s, one constant c (Q4_0: 8)
  LB_OFFSET_MIN_U6_F16, // x = q * s - m, m a 6-bit unsigned per group times a binary16 (Q4_K)
};
struct lb_block_format {
  const char *name;
  lb_dtype elem;
  uint16_t group;        // values per scale
  uint16_t super_group;  // values per super-block (two-level scales), else 0
  lb_scale_enc scale;
  lb_offset_enc offset;
  int16_t fixed_zp;      // LB_OFFSET_ZP_FIXED
  uint16_t block_bytes;  // bytes of one stored block (of super_group values when two-level)
};

// ggml's blocks, byte for byte (ggml-common.h): d (and dmin) are binary16.
struct lb_block_q8_0 {
  uint16_t d;
  int8_t qs[32];
};
struct lb_block_q4_0 {
  uint16_t d;
  uint8_t qs[16];  // value j in the low nibble of byte j, value j + 16 in the high nibble
};
struct lb_block_q4_k {
  uint16_t d, dmin;
  uint8_t scales[12];  // 8 six-bit scales and 8 six-bit mins, packed
  uint8_t qs[128];
};
static_assert(sizeof(lb_block_q8_0) == 34, "Q8_0 block is 34 bytes");
static_assert(sizeof(lb_block_q4_0) == 18, "Q4_0 block is 18 bytes");
static_assert(sizeof(lb_block_q4_k) == 144, "Q4_K block is 144 bytes");

#define LB_BLOCK_FORMAT_LIST(X)                                                              \
  X("q8_0", LB_INT8, 32, 0, LB_SCALE_ENC_F16, LB_OFFSET_NONE, 0, sizeof(lb_block_q8_0))     \
  X("q4_0", LB_UINT4, 32, 0, LB_SCALE_ENC_F16, LB_OFFSET_ZP_FIXED, 8, sizeof(lb_block_q4_0)) \
  X("q4_k", LB_UINT4, 32, 256, LB_SCALE_ENC_U6_F16, LB_OFFSET_MIN_U6_F16, 0, sizeof(lb_block_q4_k))

int lb_block_format_count();
const lb_block_format *lb_block_format_at(int i);

// binary16 bits -> float32, exact (subnormals included).
float lb_f16_to_f32(uint16_t h);
