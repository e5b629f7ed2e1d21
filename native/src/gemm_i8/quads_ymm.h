// Four rows of bytes into vpdpbusd's (k .. k + 3) quads on 256 bits (AVX2 / AVX-VNNI): shared by
// the AVX-VNNI small-M K x N kernel (gemv_kn/gemv_u8_avxvnni.cpp) and its K x N packer of the
// VNNI layout (gemm_avxvnni.cpp); quads_zmm.h is the 512-bit form. Include it after the file's
// target pragma.
#pragma once
#include <immintrin.h>

namespace {

// r[0 .. 3]: 32 bytes of rows k .. k + 3. q[j], 128-bit lane l, word i: the four bytes of column
// 16 l + 4 j + i (two unpack levels, which work within lanes).
inline void lb_quads256(const __m256i (&r)[4], __m256i (&q)[4]) {
  const __m256i t0 = _mm256_unpacklo_epi8(r[0], r[1]), t1 = _mm256_unpackhi_epi8(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi8(r[2], r[3]), t3 = _mm256_unpackhi_epi8(r[2], r[3]);
  q[0] = _mm256_unpacklo_epi16(t0, t2);
  q[1] = _mm256_unpackhi_epi16(t0, t2);
  q[2] = _mm256_unpacklo_epi16(t1, t3);
  q[3] = _mm256_unpackhi_epi16(t1, t3);
}

}  // namespace
