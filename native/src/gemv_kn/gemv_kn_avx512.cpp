// Small-M product on row-major K x N weights, AVX-512 (kernels.h, gemv_kn): B read once, as it
// lies, at memory speed; no packing. Two rows of B at a time: 32 columns of each widened to
// int16 with the column zero points subtracted, interleaved into (k, k + 1) pairs, and vpmaddwd
// by the pair (a[k], a[k + 1]) of each row of A: exact (|a|, |b - zb| <= 255: a pair sum fits
// int32), the sums wrapping as the driver's. The interleave works within 128-bit lanes, so the
// two accumulators of a row hold columns {0-3, 8-11, ...} and {4-7, 12-15, ...}: one permute per
// 16 outputs puts them back in order. The avx512vnni and amx ISAs run this file: vpdpwssd does
// each vpmaddwd and its add in one instruction (the same wrapping sums).
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

#ifndef LB_GEMV_KN_KB  // rows of B per pass (a -D for the bench)
#define LB_GEMV_KN_KB 64
#endif

namespace {

// Rows of B per pass. Walking one strip of columns down all of K touched each row (a page apart
// when N is 4096) once per 4096 rows: the prefetchers gave up, and 1 x 4096 x 4096 read B at
// 2-5 GB/s (AMD host). In passes of kKB rows, strips of a whole line (64 columns) walk along
// the rows' lines in turn, fetching each row's next line into L2 (not L1: with rows 4 KiB
// apart every line of a strip falls in one L1 set).
// 64 rows: on the lent Xeon (1 thread) 1 x 4096 x 4096 took 0.98 ms against 1.62 at 128 rows
// (2.98 before the passes), 1 x 11008 x 4096 2.5 against 6.5 (11.7).
constexpr size_t kKB = LB_GEMV_KN_KB;

template <int R>
void block(size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb, bool b_signed,
           const int16_t *zb, int32_t *Y, size_t ldy) {
  // lane l of lo holds columns 8l .. 8l + 3, of hi 8l + 4 .. 8l + 7 (of a half's 32).
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  auto mask32 = [](size_t w) { return w >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << w) - 1); };
  for (size_t k0 = 0; k0 < K || k0 == 0; k0 += kKB) {
    const size_t k1 = K - k0 < kKB ? K : k0 + kKB;
    for (size_t n = 0; n < N; n += 64) {
      const size_t w = N - n < 64 ? N - n : 64;
      const __mmask32 m[2] = {mask32(w), mask32(w > 32 ? w - 32 : 0)};
      __m512i z[2];
      LB_UNROLL for (int h = 0; h < 2; ++h) z[h] = zb ? _mm512_maskz_loadu_epi16(m[h], zb + n + 32 * h) : _mm512_setzero_si512();
      auto row = [&](size_t k, int h) {  // 32 columns of row k of B, as int16, minus the zero points
        const __m256i v = _mm256_maskz_loadu_epi8(m[h], B + k * ldb + n + 32 * h);
        return _mm512_sub_epi16(b_signed ? _mm512_cvtepi8_epi16(v) : _mm512_cvtepu8_epi16(v), z[h]);
      };
      __m512i lo[R][2], hi[R][2];
      LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int h = 0; h < 2; ++h) lo[i][h] = hi[i][h] = _mm512_setzero_si512();
      const bool fetch = n + 64 < N;
      size_t k = k0;
      for (; k < k1; k += 2) {
        const bool pair = k + 1 < k1;  // odd K: the last row with a zero partner (kKB is even)
        if (fetch) {
          _mm_prefetch((const char *)(B + k * ldb + n + 64), _MM_HINT_T1);
          if (pair) _mm_prefetch((const char *)(B + (k + 1) * ldb + n + 64), _MM_HINT_T1);
        }
        __m512i av[R];
        LB_UNROLL for (int i = 0; i < R; ++i) {
          uint32_t two = (uint16_t)a[i * K + k];
          if (pair) __builtin_memcpy(&two, a + i * K + k, 4);
          av[i] = _mm512_set1_epi32((int32_t)two);
        }
        LB_UNROLL for (int h = 0; h < 2; ++h) {
          const __m512i r0 = row(k, h), r1 = pair ? row(k + 1, h) : _mm512_setzero_si512();
          const __m512i p0 = _mm512_unpacklo_epi16(r0, r1), p1 = _mm512_unpackhi_epi16(r0, r1);
          LB_UNROLL for (int i = 0; i < R; ++i) {
            lo[i][h] = _mm512_dpwssd_epi32(lo[i][h], p0, av[i]);
            hi[i][h] = _mm512_dpwssd_epi32(hi[i][h], p1, av[i]);
          }
        }
      }
      LB_UNROLL for (int h = 0; h < 2; ++h) {
        const size_t wh = w > 32 * (size_t)h ? w - 32 * h : 0;
        if (wh == 0) break;
        const __mmask16 s0 = wh >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << wh) - 1);
        const __mmask16 s1 = wh <= 16 ? (__mmask16)0 : wh >= 32 ? (__mmask16)0xFFFF : (__mmask16)((1u << (wh - 16)) - 1);
        LB_UNROLL for (int i = 0; i < R; ++i) {  // the first pass stores, later ones add (wrapping)
          int32_t *y = Y + i * ldy + n + 32 * h;
          __m512i v0 = _mm512_permutex2var_epi32(lo[i][h], first, hi[i][h]);
          __m512i v1 = _mm512_permutex2var_epi32(lo[i][h], second, hi[i][h]);
          if (k0) {
            v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(s0, y));
            v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(s1, y + 16));
          }
          _mm512_mask_storeu_epi32(y, s0, v0);
          _mm512_mask_storeu_epi32(y + 16, s1, v1);
        }
      }
    }
  }
}

}  // namespace

void gemv_kn_avx512(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                    bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy) {
  lb_for_each_tile<8, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {
    block<r.value>(N, K, a + m * K, B, ldb, b_signed, zb, Y + m * ldy, ldy);
  });
}

namespace {

// Lane sum modulo 2^32 (vector adds wrap; _mm512_reduce_add_epi32 adds as C ints).
inline uint32_t lane_sum(__m512i v) {
  __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4E));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(q);
}

// R rows of A x 4 rows of B (N x K): dot products of int16 a and widened B, 32 k a step.
template <int R, int C>
void dots(size_t K, const int16_t *a, const uint8_t *B, size_t ldb, bool b_signed,
          const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy) {
  __m512i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_setzero_si512();
  for (size_t k = 0; k < K; k += 32) {
    const __mmask32 m32 = K - k >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << (K - k)) - 1);
    __m512i b[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const __m256i v = _mm256_maskz_loadu_epi8(m32, B + j * ldb + k);
      b[j] = b_signed ? _mm512_cvtepi8_epi16(v) : _mm512_cvtepu8_epi16(v);
    }
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i av = _mm512_maskz_loadu_epi16(m32, a + i * K + k);
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_dpwssd_epi32(acc[i][j], av, b[j]);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j)
      Y[i * ldy + j] = (int32_t)(lane_sum(acc[i][j]) - (zb ? (uint32_t)(int32_t)zb[j] * asum[i] : 0u));
}

}  // namespace

// Up to 8 rows on N x K weights (kernels.h, gemv_nk): 4 x 4 tiles of dot products (8 x 2, one
// pass over B for 8 rows, ran slower at 1 and 8 rows on the AMD host: 0.71 / 2.5 ms against
// 0.39 / 2.1 at 4096 x 4096).
void gemv_nk_avx512(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                    bool b_signed, const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy) {
  lb_for_each_tile<4, 4>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    dots<r.value, c.value>(K, a + m * K, B + n * ldb, ldb, b_signed, zb ? zb + n : nullptr, asum + m,
                           Y + m * ldy + n, ldy);
  });
}
