// AVX2 transposes for packing B panels (k-major), shared by the AVX2 and AVX-512 files.
// Include after the file's `#pragma GCC target` (avx2 or more); unnamed namespace, so each
// file has its own copy for its target.
#pragma once
#include <immintrin.h>
#include <stddef.h>

#include "../tile_loop.h"

namespace {

// 8 rows of 8 floats (row stride ld) -> 8 columns, stored 8 floats each at dst + k * dst_ld.
inline void lb_transpose8x8_store_f32(const float *src, size_t ld, float *dst, size_t dst_ld) {
  __m256 r[8], t[8], u[8];
  LB_UNROLL for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  LB_UNROLL for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      // a0 b0 a1 b1 | a4 b4 a5 b5
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
  }
  LB_UNROLL for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);      // column 0 | 4 of rows i..i+3
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);  // column 1 | 5
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);  // 2 | 6
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);  // 3 | 7
  }
  LB_UNROLL for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + c * dst_ld, _mm256_permute2f128_ps(u[c], u[c + 4], 0x20));
    _mm256_storeu_ps(dst + (c + 4) * dst_ld, _mm256_permute2f128_ps(u[c], u[c + 4], 0x31));
  }
}

// P rows (P % 8 == 0) x kc floats -> k-major, P floats per k at a stride of LD >= P floats
// (LD > P packs the first P rows of a taller panel): 8 x 8 transposes, then the last kc % 8
// columns one by one.
// Each row's cache line (16 floats of k) is used whole before the next group of 8 rows: rows
// a multiple of 4 KiB apart share L1 sets, so a half-used line would be evicted before its
// second half. `next` (or null): the next panel's rows, prefetched into L2 a line per row every
// 16 floats of k, as short row segments far apart are read too slowly by the hardware
// prefetchers alone.
template <size_t P, size_t LD = P>
inline void lb_pack_panel_avx2_f32(size_t kc, const float *src, size_t ld, float *dst,
                                   const float *next) {
  size_t k = 0;
  for (; k + 16 <= kc; k += 16) {
    if (next)
      LB_UNROLL for (size_t j = 0; j < P; ++j) _mm_prefetch((const char *)(next + j * ld + k),
                                                            _MM_HINT_T1);
    LB_UNROLL for (size_t j = 0; j < P; j += 8) {
      lb_transpose8x8_store_f32(src + j * ld + k, ld, dst + k * LD + j, LD);
      lb_transpose8x8_store_f32(src + j * ld + k + 8, ld, dst + (k + 8) * LD + j, LD);
    }
  }
  for (; k + 8 <= kc; k += 8)
    LB_UNROLL for (size_t j = 0; j < P; j += 8)
      lb_transpose8x8_store_f32(src + j * ld + k, ld, dst + k * LD + j, LD);
  for (; k < kc; ++k)
    LB_UNROLL for (size_t j = 0; j < P; ++j) dst[k * LD + j] = src[j * ld + k];
}

}  // namespace
