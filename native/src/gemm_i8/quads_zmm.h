// Four rows of bytes into vpdpbusd's (k .. k + 3) quads, and back into column order (AVX-512):
// shared by the small-M K x N kernel (gemv_kn/gemv_u8_avx512vnni.cpp) and the K x N packer of
// the VNNI layout (gemm_avx512vnni.cpp). Include it after the file's target pragma.
#pragma once
#include <immintrin.h>

namespace {

// r[0 .. 3]: 64 bytes of rows k .. k + 3. q[j], 128-bit lane l, word i: the four bytes of column
// 16 l + 4 j + i (two unpack levels, which work within lanes).
inline void lb_quads(const __m512i (&r)[4], __m512i (&q)[4]) {
  const __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
  const __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
  q[0] = _mm512_unpacklo_epi16(t0, t2);
  q[1] = _mm512_unpackhi_epi16(t0, t2);
  q[2] = _mm512_unpacklo_epi16(t1, t3);
  q[3] = _mm512_unpackhi_epi16(t1, t3);
}

// A 4 x 4 transpose of 128-bit lanes: quad order (lb_quads) -> c[b] = columns 16 b .. 16 b + 15.
inline void lb_quads_to_columns(const __m512i (&q)[4], __m512i (&c)[4]) {
  const __m512i x0 = _mm512_shuffle_i32x4(q[0], q[1], 0x44), x1 = _mm512_shuffle_i32x4(q[0], q[1], 0xEE);
  const __m512i x2 = _mm512_shuffle_i32x4(q[2], q[3], 0x44), x3 = _mm512_shuffle_i32x4(q[2], q[3], 0xEE);
  c[0] = _mm512_shuffle_i32x4(x0, x2, 0x88);
  c[1] = _mm512_shuffle_i32x4(x0, x2, 0xDD);
  c[2] = _mm512_shuffle_i32x4(x1, x3, 0x88);
  c[3] = _mm512_shuffle_i32x4(x1, x3, 0xDD);
}

}  // namespace
