// Small-M product on row-major K x N weights, AVX2 (kernels.h, gemv_kn), for the ISAs without a
// byte dot product (AVX-512 VNNI runs gemv_u8_avx512vnni.cpp): B read once, as it lies. Two rows
// of B at a time: 16 columns of each interleaved into (k, k + 1) byte pairs, widened to int16
// with the column zero points subtracted, and vpmaddwd by the pair (a[k], a[k + 1]) of each row
// of A: exact (|a|, |b - zb| <= 255), the sums wrapping as the driver's. (Interleaving the bytes
// before widening halves the 256-bit shuffles and leaves the sums in column order.) A tail of
// fewer than 16 columns runs the reference.
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"


namespace {

// Groups of kKG rows of B, each walked along its whole rows (kKG sequential streams), the
// sums of a group kept in registers along a 16-column strip and added into Y at its end.
// Xeon host (LOWBIT_ISA avx2), 1 thread, x 4096 x 4096, p10 ms, against 16-column strips walked
// down passes of 128 rows (the strips along the rows' lines): 1 row 2.13-2.17 -> 0.87-0.89, 4
// rows 2.87 -> 1.78-1.93, 8 rows 5.53-5.82 -> 3.44-3.85 (prepacked 0.57, 1.23, 2.49-2.52);
// 1 x 11008 x 4096 9.34 -> 2.08-2.29 (1.52). Groups of 8 rows: 0.91 / 2.15 / 4.30; of 32:
// 1.11 / 1.84 / 3.64; of 64: 1.20 / 1.95 / 3.64; software prefetch 256 or 512 bytes ahead
// along the rows: slower by 3-10%.
constexpr size_t kKG = 16;

// B's zero points of the strip at n as (zb, zb) pairs, columns 0-7 and 8-15.
inline void zero_point_pairs(const int16_t *zb, size_t n, __m256i *z0, __m256i *z1) {
  *z0 = *z1 = _mm256_setzero_si256();
  if (!zb) return;
  const __m256i lo = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(zb + n))),
                hi = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(zb + n + 8)));
  const __m256i mask = _mm256_set1_epi32(0xFFFF);
  *z0 = _mm256_or_si256(_mm256_and_si256(lo, mask), _mm256_slli_epi32(lo, 16));
  *z1 = _mm256_or_si256(_mm256_and_si256(hi, mask), _mm256_slli_epi32(hi, 16));
}

// Rows k and k + 1 (x0, x1: 16 bytes of each) as (k, k + 1) pairs of int16 less the zero points,
// columns 0-7 (p0) and 8-15 (p1): the bytes interleaved in xmm, then widened.
inline void row_pairs(__m128i x0, __m128i x1, bool b_signed, __m256i z0, __m256i z1, __m256i *p0, __m256i *p1) {
  const __m128i l = _mm_unpacklo_epi8(x0, x1), h = _mm_unpackhi_epi8(x0, x1);
  *p0 = _mm256_sub_epi16(b_signed ? _mm256_cvtepi8_epi16(l) : _mm256_cvtepu8_epi16(l), z0);
  *p1 = _mm256_sub_epi16(b_signed ? _mm256_cvtepi8_epi16(h) : _mm256_cvtepu8_epi16(h), z1);
}

// acc (lo, hi per row) += one pair step of R rows of a (pairs at a + i K + k; the last row of
// an odd K with a zero partner).
template <int R>
inline void madd_rows(__m256i p0, __m256i p1, const int16_t *a, size_t K, size_t k, bool last_odd, __m256i (&lo)[R],
                      __m256i (&hi)[R]) {
  LB_UNROLL for (int i = 0; i < R; ++i) {
    uint32_t pair = (uint16_t)a[i * K + k];
    if (!last_odd) __builtin_memcpy(&pair, a + i * K + k, 4);
    const __m256i av = _mm256_set1_epi32((int32_t)pair);
    lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(p0, av));
    hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(p1, av));
  }
}

// The strip's sums of R rows into Y (from zero when k0 == 0, else adding).
template <int R>
inline void store_rows(const __m256i (&lo)[R], const __m256i (&hi)[R], bool add, int32_t *Y, size_t ldy) {
  LB_UNROLL for (int i = 0; i < R; ++i) {
    __m256i *y = (__m256i *)(Y + i * ldy), l = lo[i], h = hi[i];
    if (add) {
      l = _mm256_add_epi32(l, _mm256_loadu_si256(y));
      h = _mm256_add_epi32(h, _mm256_loadu_si256(y + 1));
    }
    _mm256_storeu_si256(y, l);
    _mm256_storeu_si256(y + 1, h);
  }
}

// Rows k0 .. k1 of B times R rows of a (up to 4) into Y, the pairs made as they are used.
template <int R>
void group(size_t N16, size_t K, size_t k0, size_t k1, const int16_t *a, const uint8_t *B, size_t ldb, bool b_signed,
           const int16_t *zb, int32_t *Y, size_t ldy) {
  for (size_t n = 0; n < N16; n += 16) {
    __m256i z0, z1, lo[R], hi[R];
    zero_point_pairs(zb, n, &z0, &z1);
    LB_UNROLL for (int i = 0; i < R; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
    for (size_t k = k0; k < k1; k += 2) {  // odd K: the last row with a zero partner (kKG is even)
      const bool last_odd = k + 1 == k1;
      const __m128i x0 = _mm_loadu_si128((const __m128i *)(B + k * ldb + n)),
                    x1 = last_odd ? _mm_setzero_si128() : _mm_loadu_si128((const __m128i *)(B + (k + 1) * ldb + n));
      __m256i p0, p1;
      row_pairs(x0, x1, b_signed, z0, z1, &p0, &p1);
      madd_rows<R>(p0, p1, a, K, k, last_odd, lo, hi);
    }
    store_rows<R>(lo, hi, k0 != 0, Y + n, ldy);
  }
}

// One or two rows of A and no zero points of B: 32-column strips, rows k and k + 1 loaded whole
// and interleaved within the 128-bit lanes, then widened by interleaving with their signs: 6
// shuffles per 64 bytes of B where group() takes 8 (to pair and to widen each 16 bytes), and
// with one row the shuffles bound the loop (one port). w[j] holds in lane l the pairs of columns
// 16 l + 4 j .. 16 l + 4 j + 3, so the sums come out in that order and are put back in column
// order at the strip's end. Xeon host, LOWBIT_ISA avx2, p10 ms, group() -> this: 1 x 4096 x 4096
// 0.97-1.00 -> 0.84-0.87 (2 threads 0.51-0.53 -> 0.43-0.46), 2 rows 1.27-1.34 -> 1.11-1.18,
// 1 x 11008 x 4096 2.47-2.52 -> 2.29-2.34, 1 x 1024 x 1024 (in L2) 0.046-0.048 -> 0.036-0.037.
template <bool kSigned>
inline void row_pairs32(__m256i y0, __m256i y1, __m256i (&w)[4]) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i lo = _mm256_unpacklo_epi8(y0, y1), hi = _mm256_unpackhi_epi8(y0, y1);
  const __m256i slo = kSigned ? _mm256_cmpgt_epi8(zero, lo) : zero, shi = kSigned ? _mm256_cmpgt_epi8(zero, hi) : zero;
  w[0] = _mm256_unpacklo_epi8(lo, slo);
  w[1] = _mm256_unpackhi_epi8(lo, slo);
  w[2] = _mm256_unpacklo_epi8(hi, shi);
  w[3] = _mm256_unpackhi_epi8(hi, shi);
}

template <int R, bool kSigned>
void group32(size_t N32, size_t K, size_t k0, size_t k1, const int16_t *a, const uint8_t *B, size_t ldb, int32_t *Y,
             size_t ldy) {
  for (size_t n = 0; n < N32; n += 32) {
    __m256i acc[R][4];
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_si256();
    for (size_t k = k0; k < k1; k += 2) {  // odd K: the last row with a zero partner (kKG is even)
      const bool last_odd = k + 1 == k1;
      const __m256i y0 = _mm256_loadu_si256((const __m256i *)(B + k * ldb + n)),
                    y1 = last_odd ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(B + (k + 1) * ldb + n));
      __m256i w[4];
      row_pairs32<kSigned>(y0, y1, w);
      LB_UNROLL for (int i = 0; i < R; ++i) {
        uint32_t pair = (uint16_t)a[i * K + k];
        if (!last_odd) __builtin_memcpy(&pair, a + i * K + k, 4);
        const __m256i av = _mm256_set1_epi32((int32_t)pair);
        LB_UNROLL for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(w[j], av));
      }
    }
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m256i c[4] = {_mm256_permute2x128_si256(acc[i][0], acc[i][1], 0x20),
                            _mm256_permute2x128_si256(acc[i][2], acc[i][3], 0x20),
                            _mm256_permute2x128_si256(acc[i][0], acc[i][1], 0x31),
                            _mm256_permute2x128_si256(acc[i][2], acc[i][3], 0x31)};
      __m256i *y = (__m256i *)(Y + i * ldy + n);
      LB_UNROLL for (int j = 0; j < 4; ++j)
        _mm256_storeu_si256(y + j, k0 ? _mm256_add_epi32(c[j], _mm256_loadu_si256(y + j)) : c[j]);
    }
  }
}

// The same for more than 4 rows: each strip's pairs made once into a buffer in L1, then every
// 4-row tile of a reads them there (against each tile making them again from B in L2: Xeon
// host, 1 thread, p10 ms, 8 x 4096 x 4096 3.95-4.15 -> 3.66-3.78, 16 rows 7.86-7.98 ->
// 7.18-7.41, 8 x 11008 x 4096 10.2-10.9 -> 9.3-9.8; 2 threads 8 rows 1.97 -> 1.85; up to 4 rows
// the buffer costs: 1 row 0.91 -> 1.18).
void group_rows(size_t M, size_t N16, size_t K, size_t k0, size_t k1, const int16_t *a, const uint8_t *B, size_t ldb,
                bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy) {
  alignas(32) __m256i pb[kKG / 2][2];
  for (size_t n = 0; n < N16; n += 16) {
    __m256i z0, z1;
    zero_point_pairs(zb, n, &z0, &z1);
    size_t steps = 0;
    for (size_t k = k0; k < k1; k += 2, ++steps) {
      const __m128i x0 = _mm_loadu_si128((const __m128i *)(B + k * ldb + n)),
                    x1 = k + 1 == k1 ? _mm_setzero_si128() : _mm_loadu_si128((const __m128i *)(B + (k + 1) * ldb + n));
      row_pairs(x0, x1, b_signed, z0, z1, &pb[steps][0], &pb[steps][1]);
    }
    lb_for_each_tile<4, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {
      constexpr int R = r.value;
      __m256i lo[R], hi[R];
      LB_UNROLL for (int i = 0; i < R; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
      for (size_t s = 0; s < steps; ++s)
        madd_rows<R>(pb[s][0], pb[s][1], a + m * K, K, k0 + 2 * s, k0 + 2 * s + 1 == k1, lo, hi);
      store_rows<R>(lo, hi, k0 != 0, Y + m * ldy + n, ldy);
    });
  }
}

}  // namespace

void gemv_kn_avx2(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                  bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy) {
  const size_t N16 = N / 16 * 16;
  for (size_t k0 = 0; k0 < K || k0 == 0; k0 += kKG) {
    const size_t k1 = K - k0 < kKG ? K : k0 + kKG;
    if (M > 4) {
      group_rows(M, N16, K, k0, k1, a, B, ldb, b_signed, zb, Y, ldy);
      continue;
    }
    if (M <= 2 && !zb) {
      const size_t N32 = N16 / 32 * 32;
      auto run = [&](auto r) {
        constexpr int R = decltype(r)::value;
        (b_signed ? group32<R, true> : group32<R, false>)(N32, K, k0, k1, a, B, ldb, Y, ldy);
        if (N32 < N16) group<R>(N16 - N32, K, k0, k1, a, B + N32, ldb, b_signed, nullptr, Y + N32, ldy);
      };
      if (M == 1) run(std::integral_constant<int, 1>{});
      else run(std::integral_constant<int, 2>{});
      continue;
    }
    lb_for_each_tile<4, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {
      group<r.value>(N16, K, k0, k1, a + m * K, B, ldb, b_signed, zb, Y + m * ldy, ldy);
    });
  }
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
