// Small-M products on the caller's bytes, AVX-512 VNNI (kernels.h, lb_gemv_u8_kernels): the
// path of matmulInteger for up to 8 rows, B read once as it lies, no packing. vpdpbusd takes
// a as it is (uint8: its unsigned operand; int8: its signed one) and B' = B ^ flip as the other,
// 64 exact products an instruction. (The int16 kernels before widened both operands for
// vpdpwssd, 32 products, and subtracted B's zero point on every load.) The avx512vnni and amx
// ISAs run this file.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"
#include "../gemm_i8/quads_zmm.h"
#include "../tile_loop.h"
#include "kn_units_zmm.h"
#include "kn_finish.h"

#ifndef LB_GEMV_U8_PF  // bytes ahead that each row of B is fetched (a -D for the bench)
#define LB_GEMV_U8_PF 512
#endif

namespace {

constexpr size_t kPF = LB_GEMV_U8_PF;


inline __mmask64 first_bytes(size_t w) { return w >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << w) - 1); }

// ---- K x N ---------------------------------------------------------------------------------
// Eight or sixteen rows of B at a time, each walked along its whole length: sequential streams,
// each fetched kPF bytes ahead. (The int16 kernel walked 64-column strips down passes of 64
// rows: 64 streams 4 KiB apart; 1 x 4096 x 4096 read B at 18 GB/s.) Each 64-column block of the rows
// becomes sets of (k .. k + 3) quads by two unpack levels; the outputs of every row of A wait
// in P between the row groups (L1 / L2), each added into by one vpdpbusd a vector and quad.
// The unpacks work within 128-bit lanes, so quad vector j holds in lane l the columns
// 16 l + 4 j .. 16 l + 4 j + 3: P's blocks are kept in that order until the end, when a 4 x 4
// transpose of lanes puts each block in column order (a partial last block in a local tile).
// (lb_quads, lb_quads_to_columns: gemm_i8/quads_zmm.h; kn_to_columns: kn_units_zmm.h.)

template <int M, bool kAU8, bool kFlip>
void kn(size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb,
        int32_t *P, size_t ldp, int32_t *S) {
  const __m512i fl = _mm512_set1_epi8(kFlip ? (char)0x80 : 0);
  auto flipped = [&](__m512i v) { return kFlip ? _mm512_xor_si512(v, fl) : v; };
  const size_t whole = N / 64 * 64;
  alignas(64) int32_t tail[M + 1][64];  // the partial last block: rows of P, then S
  // Quads of rows per group: P's round trips per row of A weigh more with more rows (AMD
  // host, 1 thread, interleaved: 8 x 4096 x 4096 1.66-1.78 -> 1.09-1.29 ms with 4 quads), the
  // shuffles' registers more with fewer (one row: 0.45-0.53 -> 0.57-0.59).
  constexpr int H = M <= 2 ? 2 : 4;
  // Rows of a column block too short to fetch ahead along (16 threads on the lent Xeon give
  // blocks of 256 columns): the next group's rows at the same columns instead.
  const bool along = N >= 4 * kPF;
  for (size_t k = 0; k < K; k += 4 * H) {
    const size_t rows = K - k < 4 * H ? K - k : 4 * H;
    for (size_t n = 0; n < N; n += 64) {
      const __mmask64 cols = first_bytes(N - n);
      __m512i q[H][4];
      LB_UNROLL for (int h = 0; h < H; ++h) {
        __m512i r[4];
        LB_UNROLL for (int i = 0; i < 4; ++i) {
          const size_t row = 4 * (size_t)h + i;
          if (row < rows) {  // rows past K stay zero: no product, no column sum
            const uint8_t *src = B + (k + row) * ldb + n;
            if (along) {
              // Near the row's end, the start of the row kPF further on: the next group's.
              if (n + kPF < N) _mm_prefetch((const char *)src + kPF, _MM_HINT_T0);
              else if (k + row + 4 * H < K) _mm_prefetch((const char *)(src + 4 * H * ldb + kPF - N), _MM_HINT_T0);
            } else if (k + row + 4 * H < K) {
              _mm_prefetch((const char *)src + 4 * H * ldb, _MM_HINT_T0);
            }
            r[i] = n < whole ? flipped(_mm512_loadu_si512(src))
                             : _mm512_maskz_mov_epi8(cols, flipped(_mm512_maskz_loadu_epi8(cols, src)));
          } else {
            r[i] = _mm512_setzero_si512();
          }
        }
        lb_quads(r, q[h]);
      }
      auto add = [&](int32_t *p, const uint8_t *x) {  // p[0 .. 63] += the block's products with x
        __m512i v[H];
        LB_UNROLL for (int h = 0; h < H; ++h) {
          int32_t x4;
          memcpy(&x4, x + 4 * h, 4);
          v[h] = _mm512_set1_epi32(x4);
        }
        LB_UNROLL for (int j = 0; j < 4; ++j) {
          __m512i acc = k ? _mm512_loadu_si512(p + 16 * j) : _mm512_setzero_si512();
          LB_UNROLL for (int h = 0; h < H; ++h) acc = kn_dp<kAU8>(acc, v[h], q[h][j]);
          _mm512_storeu_si512(p + 16 * j, acc);
        }
      };
      static const uint8_t ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
      if (n < whole) {
        LB_UNROLL for (int m = 0; m < M; ++m) add(P + m * ldp + n, a + m * lda + k);
        if (S) add(S + n, ones);
      } else {
        LB_UNROLL for (int m = 0; m < M; ++m) add(tail[m], a + m * lda + k);
        if (S) add(tail[M], ones);
      }
    }
  }
  kn_finish<64>(M, N, K, P, ldp, S, tail, kn_to_columns);
}

// ---- N x K ---------------------------------------------------------------------------------
// Lane sum modulo 2^32 (vector adds wrap; _mm512_reduce_add_epi32 adds as C ints).
inline uint32_t lane_sum(__m512i v) {
  __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4E));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(q);
}

// R rows of A x C rows of B, 64 k a step; S's sums by one more vpdpbusd a row of B against
// ones. Each step fetches the next tile's rows at the same k: a row is only K bytes, too short
// for fetching ahead along it (AMD host, 1 thread, 1 x 4096 x 4096: 0.33-0.47 -> 0.26-0.28 ms
// against 512 bytes ahead in the row).
template <int R, int C, bool kAU8>
void dots(size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, __m512i fl,
          int32_t *P, size_t ldp, int32_t *S) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i acc[R][C], cs[C];
  LB_UNROLL for (int j = 0; j < C; ++j) {
    cs[j] = _mm512_setzero_si512();
    LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_setzero_si512();
  }
  for (size_t k = 0; k < K; k += 64) {
    __m512i b[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const uint8_t *src = B + j * ldb + k;
      if (k + 64 < K) {
        _mm_prefetch((const char *)src + C * ldb, _MM_HINT_T0);
        b[j] = _mm512_xor_si512(_mm512_loadu_si512(src), fl);
      } else {  // the last step: bytes past K zero (a is zero there too)
        const __mmask64 m = first_bytes(K - k);
        b[j] = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src), fl));
      }
      if (S) cs[j] = kn_dp<kAU8>(cs[j], ones, b[j]);
    }
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i x = _mm512_loadu_si512(a + i * lda + k);
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = kn_dp<kAU8>(acc[i][j], x, b[j]);
    }
  }
  LB_UNROLL for (int j = 0; j < C; ++j) {
    LB_UNROLL for (int i = 0; i < R; ++i) P[i * ldp + j] = (int32_t)lane_sum(acc[i][j]);
    if (S) S[j] = (int32_t)lane_sum(cs[j]);
  }
}

template <bool kAU8>
void nk(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb,
        uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  const __m512i fl = _mm512_set1_epi8((char)flip);
  // One row tile for all M rows (S once): 4 x 4 up to 4 rows, 8 x 2 beyond.
  auto at = [&](auto r, auto c, size_t m, size_t n) {
    dots<r.value, c.value, kAU8>(K, a + m * lda, lda, B + n * ldb, ldb, fl, P + m * ldp + n, ldp, S && !m ? S + n : nullptr);
  };
  if (M <= 4) lb_for_each_tile<4, 4>(M, N, at);
  else lb_for_each_tile<8, 2>(M, N, at);
}

// ---- K x N, 9 rows and more (kn_many) -----------------------------------------------------
// The walk of kn_units_zmm.h; each strip's quads multiplied by R rows of a at a time (R <= 6:
// 24 accumulators, the strip's four quad vectors and a broadcast of a's four bytes), the
// accumulators kept in P between slabs.
template <int R, bool kAU8>
void rows_x_strip(size_t kq_count, bool first, const uint8_t *a, size_t lda, const int8_t *quads, int32_t *p,
                  size_t ldp) {
  __m512i acc[R][4];
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) acc[r][j] = first ? _mm512_setzero_si512() : _mm512_load_si512(p + r * ldp + 16 * j);
  const uint8_t *rows[R];
  LB_UNROLL for (int r = 0; r < R; ++r) rows[r] = a + r * lda;
  for (size_t kb = 0; kb < kq_count / 16; ++kb) {  // 64-k blocks: the offsets below constant
    const int8_t *block = quads + 4096 * kb;
    LB_UNROLL for (int t = 0; t < 16; ++t) {
      __m512i b[4];
      LB_UNROLL for (int j = 0; j < 4; ++j) b[j] = _mm512_load_si512(block + 1024 * j + 64 * t);
      LB_UNROLL for (int r = 0; r < R; ++r) {
        int32_t x4;
        memcpy(&x4, rows[r] + 64 * kb + 4 * t, 4);
        const __m512i x = _mm512_set1_epi32(x4);
        LB_UNROLL for (int j = 0; j < 4; ++j) acc[r][j] = kn_dp<kAU8>(acc[r][j], x, b[j]);
      }
    }
  }
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) _mm512_store_si512(p + r * ldp + 16 * j, acc[r][j]);
}

template <bool kAU8>
void kn_many(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, uint8_t flip,
             int32_t *P, size_t ldp, int32_t *S) {
  kn_walk<kAU8>(M, N, K, B, ldb, flip, P, ldp, S, [&](const kn_unit &u, size_t kq_count, bool first, const int8_t *quads, int32_t *p) {
    lb_for_each_tile<6, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {
      rows_x_strip<r.value, kAU8>(kq_count, first, a + m * lda + u.k0, lda, quads, p + m * ldp, ldp);
    });
  });
}

void gemv_kn_many_u8_avx512vnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8,
                                const uint8_t *B, size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) kn_many<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else kn_many<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

}  // namespace

void gemv_kn_u8_avx512vnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                           size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  lb_for_each_tile<8, 1>(M, 1, [&](auto r, auto, size_t m, size_t) {  // one tile (M <= 8)
    int32_t *s = m ? nullptr : S;
    auto run = [&](auto au8, auto fl) {
      kn<r.value, decltype(au8)::value, decltype(fl)::value>(N, K, a + m * lda, lda, B, ldb, P + m * ldp, ldp, s);
    };
    if (a_u8) flip ? run(std::true_type{}, std::true_type{}) : run(std::true_type{}, std::false_type{});
    else flip ? run(std::false_type{}, std::true_type{}) : run(std::false_type{}, std::false_type{});
  });
}

void gemv_nk_u8_avx512vnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                           size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) nk<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else nk<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

const lb_gemv_u8_kernels gemv_u8_avx512vnni = {gemv_kn_u8_avx512vnni, gemv_nk_u8_avx512vnni, gemv_kn_many_u8_avx512vnni,
                                               kGemvKnRowsAvx512, 1, 64};
