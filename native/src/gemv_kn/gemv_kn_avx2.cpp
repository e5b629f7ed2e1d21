// Small-M product on row-major K x N weights, AVX2 (kernels.h, gemv_kn), for the ISAs without a
// byte dot product (AVX-512 VNNI runs gemv_u8_avx512vnni.cpp): B read once, as it lies. Two rows
// of B at a time: 16 columns of each widened to int16 with the column zero points subtracted,
// interleaved into (k, k + 1) pairs, and vpmaddwd by the pair (a[k], a[k + 1]) of each row of A:
// exact (|a|, |b - zb| <= 255), the sums wrapping as the driver's. A tail of fewer than 16
// columns runs the reference.
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

#ifndef LB_GEMV_KN_KB  // rows of B per pass (a -D for the bench)
#define LB_GEMV_KN_KB 128
#endif

namespace {

// Rows of B per pass: a strip walked down all of K read B at 1-3 GB/s (AMD host, 1 x 4096 x
// 4096); in passes of kKB rows the strips walk along the rows' lines.
constexpr size_t kKB = LB_GEMV_KN_KB;

template <int R>
void block(size_t N16, size_t K, const int16_t *a, const uint8_t *B, size_t ldb, bool b_signed,
           const int16_t *zb, int32_t *Y, size_t ldy) {
  for (size_t k0 = 0; k0 < K || k0 == 0; k0 += kKB) {
    const size_t k1 = K - k0 < kKB ? K : k0 + kKB;
    for (size_t n = 0; n < N16; n += 16) {
      const __m256i z = zb ? _mm256_loadu_si256((const __m256i *)(zb + n)) : _mm256_setzero_si256();
      auto row = [&](size_t k) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(B + k * ldb + n));
        return _mm256_sub_epi16(b_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), z);
      };
      __m256i lo[R], hi[R];
      LB_UNROLL for (int i = 0; i < R; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
      // At a line's first strip, the rows' next lines into L2 for the strips after this line's.
      const bool fetch = (n & 63) == 0 && n + 64 < N16;
      size_t k = k0;
      for (; k + 2 <= k1; k += 2) {
        if (fetch) {
          _mm_prefetch((const char *)(B + k * ldb + n + 64), _MM_HINT_T1);
          _mm_prefetch((const char *)(B + (k + 1) * ldb + n + 64), _MM_HINT_T1);
        }
        const __m256i r0 = row(k), r1 = row(k + 1);
        const __m256i p0 = _mm256_unpacklo_epi16(r0, r1), p1 = _mm256_unpackhi_epi16(r0, r1);
        LB_UNROLL for (int i = 0; i < R; ++i) {
          uint32_t pair;
          __builtin_memcpy(&pair, a + i * K + k, 4);
          const __m256i av = _mm256_set1_epi32((int32_t)pair);
          lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(p0, av));
          hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(p1, av));
        }
      }
      if (k < k1) {  // odd K: the last row with a zero partner (kKB is even)
        const __m256i r0 = row(k), r1 = _mm256_setzero_si256();
        const __m256i p0 = _mm256_unpacklo_epi16(r0, r1), p1 = _mm256_unpackhi_epi16(r0, r1);
        LB_UNROLL for (int i = 0; i < R; ++i) {
          const __m256i av = _mm256_set1_epi32((int32_t)(uint16_t)a[i * K + k]);
          lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(p0, av));
          hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(p1, av));
        }
      }
      // lo: columns 0-3 | 8-11, hi: 4-7 | 12-15. The first pass stores, later ones add (wrapping).
      LB_UNROLL for (int i = 0; i < R; ++i) {
        __m256i *y = (__m256i *)(Y + i * ldy + n);
        __m256i v0 = _mm256_permute2x128_si256(lo[i], hi[i], 0x20), v1 = _mm256_permute2x128_si256(lo[i], hi[i], 0x31);
        if (k0) {
          v0 = _mm256_add_epi32(v0, _mm256_loadu_si256(y));
          v1 = _mm256_add_epi32(v1, _mm256_loadu_si256(y + 1));
        }
        _mm256_storeu_si256(y, v0);
        _mm256_storeu_si256(y + 1, v1);
      }
    }
  }
}

}  // namespace

void gemv_kn_avx2(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                  bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy) {
  const size_t N16 = N / 16 * 16;
  lb_for_each_tile<4, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {
    block<r.value>(N16, K, a + m * K, B, ldb, b_signed, zb, Y + m * ldy, ldy);
  });
  if (N16 < N) gemv_kn_ref(M, N - N16, K, a, B + N16, ldb, b_signed, zb ? zb + N16 : nullptr, Y + N16, ldy);
}

namespace {

inline uint32_t lane_sum(__m256i v) {  // modulo 2^32
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4E));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(q);
}

// N x K (gemv_nk): R rows of A x C rows of B, dot products of int16 a and widened B, 16 k a
// step; the last K % 16 in scalar code.
template <int R, int C>
void dots(size_t K, const int16_t *a, const uint8_t *B, size_t ldb, bool b_signed,
          const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy) {
  __m256i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm256_setzero_si256();
  const size_t K16 = K / 16 * 16;
  for (size_t k = 0; k < K16; k += 16) {
    __m256i b[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const __m128i v = _mm_loadu_si128((const __m128i *)(B + j * ldb + k));
      b[j] = b_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
    }
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m256i av = _mm256_loadu_si256((const __m256i *)(a + i * K + k));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(av, b[j]));
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    uint32_t s = lane_sum(acc[i][j]);
    for (size_t k = K16; k < K; ++k)
      s += (uint32_t)((int32_t)a[i * K + k] * (b_signed ? (int)(int8_t)B[j * ldb + k] : (int)B[j * ldb + k]));
    Y[i * ldy + j] = (int32_t)(s - (zb ? (uint32_t)(int32_t)zb[j] * asum[i] : 0u));
  }
}

}  // namespace

void gemv_nk_avx2(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                  bool b_signed, const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy) {
  lb_for_each_tile<2, 4>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    dots<r.value, c.value>(K, a + m * K, B + n * ldb, ldb, b_signed, zb ? zb + n : nullptr, asum + m,
                           Y + m * ldy + n, ldy);
  });
}
