// Small-M products on the caller's bytes, AVX-VNNI (kernels.h, lb_gemv_u8_kernels): the path of
// matmulInteger for up to 16 rows (two calls of 8) on CPUs with VEX vpdpbusd and no AVX-512
// (Intel's client cores since Alder Lake), B read once as it lies. As gemv_u8_avx512vnni.cpp
// does on 512 bits: vpdpbusd takes a as it is and B' = B ^ flip as the other operand, 32 exact
// products an instruction (the int16 kernels before widened both for vpmaddwd, 16 a step: 8 x
// 4096 x 4096 K x N ran at 0.29 of the prepacked product's speed in the npm bench).
#pragma GCC target("avx2,fma,avxvnni")
#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../kernels.h"
#include "../gemm_i8/quads_ymm.h"
#include "../tile_loop.h"
#include "kn_finish.h"

namespace {

// acc + the four-byte dot products of a's bytes x and B's bytes b, each as its signedness says
// (a uint8 when kAU8, B' then int8).
template <bool kAU8>
inline __m256i dp(__m256i acc, __m256i x, __m256i b) {
  return kAU8 ? _mm256_dpbusd_avx_epi32(acc, x, b) : _mm256_dpbusd_avx_epi32(acc, b, x);
}

inline __m256i broadcast4(const uint8_t *p) {
  int32_t x4;
  memcpy(&x4, p, 4);
  return _mm256_set1_epi32(x4);
}

// ---- K x N ---------------------------------------------------------------------------------
// B in blocks of kKB rows (32; 16 for one or two rows of A) x 32 columns. A block's rows become
// (k .. k + 3) quads by two unpack levels within 128-bit lanes (lb_quads256: quad vector j holds
// in lane l the columns 16 l + 4 j .. + 3) in an L1 buffer Q; then the rows of A, three at a time, run over
// Q with their 3 x 4 accumulators in registers, adding into P (in Q's column order until the
// end, when a swap of lanes puts each 32 columns right). Three rows fill the 16 registers: 12
// accumulators, three broadcasts of A and one quad vector of Q, loaded once for the three.
// (Two rows at a time loaded each quad vector for 8 products instead of 12: Xeon host, 1
// thread, x 4096 x 4096, p10 ms, 3 rows 1.25-1.28 -> 1.15-1.16, 4 rows 1.29 -> 1.22-1.26, 6 rows
// 1.50-1.52 -> 1.38-1.40, 8 rows 1.67-1.68 -> 1.51-1.52, 16 rows 3.37-3.54 -> 3.11-3.17; four
// rows spilled, 4 and 8 rows 1.32-1.35 and 1.77-1.80.) With 16 registers, quads kept in
// registers as on AVX-512 would leave 8 k between P's round trips; through Q there are up to
// 32. The rows of a block are walked along their whole length (sequential streams), each
// fetched kPF bytes ahead, and near a row's end the next block's row.
constexpr size_t kPF = 512, kMaxKB = 32;

// The quads q[0 .. 3] of rows k + 4 t .. k + 4 t + 3 (rows past kr, at most kKB, zero) at
// columns n .. n + cols (cols <= 32; the columns past it read as 0 ^ flip: no output depends on
// them).
// (along: N >= 4 kPF, fl: the flip in every byte; the callers' loop invariants.)
template <bool kFlip, size_t kKB>
inline void load_quads(const uint8_t *B, size_t ldb, size_t k, size_t kr, size_t K, size_t n, size_t cols, size_t N,
                       bool along, __m256i fl, size_t t, __m256i (&q)[4]) {
  __m256i r[4];
  LB_UNROLL for (int i = 0; i < 4; ++i) {
    const size_t row = 4 * t + i;
    if (row >= kr) {  // rows past K stay zero: no product, no column sum
      r[i] = _mm256_setzero_si256();
      continue;
    }
    const uint8_t *src = B + (k + row) * ldb + n;
    if (along) {
      if (n + kPF < N) _mm_prefetch((const char *)src + kPF, _MM_HINT_T0);
      else if (k + row + kKB < K) _mm_prefetch((const char *)(src + kKB * ldb + kPF - N), _MM_HINT_T0);
    } else if (k + row + kKB < K) {  // rows too short to fetch along: the next block's
      _mm_prefetch((const char *)src + kKB * ldb, _MM_HINT_T0);
    }
    if (cols == 32) {
      r[i] = _mm256_loadu_si256((const __m256i *)src);
    } else {
      alignas(32) uint8_t part[32] = {};
      memcpy(part, src, cols);
      r[i] = _mm256_load_si256((const __m256i *)part);
    }
    if (kFlip) r[i] = _mm256_xor_si256(r[i], fl);
  }
  lb_quads256(r, q);
}

// The same for a whole block (kKB rows of 32 columns) with no test per row: rows src,
// src + ldb, .. each fetched pf bytes on (along the row, or the next block's row; past B's end
// in the last block, which a prefetch may be: it never faults). With load_quads' tests per row
// the one-row kernel held 366 mov and 94 cmp against 12 vpdpbusd; Xeon host, 1 thread, p10 ms:
// 1 x 1024 x 1024 (in L2) 0.041-0.042 -> 0.036-0.038, x 4096 x 4096 4 rows 1.61-1.69 ->
// 1.38-1.46, 8 rows 1.96 -> 1.73-1.81, 16 rows 4.0-4.2 -> 3.6-3.8 (1 and 2 rows: the same).
// The two callers keep a loop each: one walk for both taking the products or the stores as a
// lambda ran 8 and 16 rows 7-11% slower.
template <bool kFlip>
inline void load_quads_whole(const uint8_t *src, size_t ldb, size_t pf, __m256i fl, __m256i (&q)[4]) {
  __m256i r[4];
  LB_UNROLL for (int i = 0; i < 4; ++i) {
    const uint8_t *s = src + i * ldb;
    _mm_prefetch((const char *)((uintptr_t)s + pf), _MM_HINT_T0);
    r[i] = _mm256_loadu_si256((const __m256i *)s);
    if (kFlip) r[i] = _mm256_xor_si256(r[i], fl);
  }
  lb_quads256(r, q);
}
// pf for load_quads_whole at column n of rows kKB long blocks (along: fetching along the rows).
template <size_t kKB>
inline size_t whole_fetch(size_t n, size_t N, size_t ldb, bool along) {
  return !along ? kKB * ldb : n + kPF < N ? kPF : kKB * ldb + kPF - N;
}

// The block's quads into Q: quad vector j of k-quad t at Q + 128 t + 32 j.
template <bool kFlip, size_t kKB>
void block_quads(const uint8_t *B, size_t ldb, size_t k, size_t kr, size_t K, size_t n, size_t cols, size_t N,
                 int8_t *Q) {
  const __m256i fl = _mm256_set1_epi8(kFlip ? (char)0x80 : 0);
  if (kr == kKB && cols == 32) {
    const size_t pf = whole_fetch<kKB>(n, N, ldb, N >= 4 * kPF);
    LB_UNROLL for (size_t t = 0; t < kKB / 4; ++t) {
      __m256i q[4];
      load_quads_whole<kFlip>(B + (k + 4 * t) * ldb + n, ldb, pf, fl, q);
      LB_UNROLL for (int j = 0; j < 4; ++j) _mm256_store_si256((__m256i *)(Q + 128 * t + 32 * j), q[j]);
    }
    return;
  }
  for (size_t t = 0; t < (kr + 3) / 4; ++t) {
    __m256i q[4];
    load_quads<kFlip, kKB>(B, ldb, k, kr, K, n, cols, N, N >= 4 * kPF, fl, t, q);
    LB_UNROLL for (int j = 0; j < 4; ++j) _mm256_store_si256((__m256i *)(Q + 128 * t + 32 * j), q[j]);
  }
}

// One or two rows of A (with S's row, at most two in all): one pass over the block, so its
// quads go straight from the unpacks into the products, no Q (Xeon host, 1 thread, x 4096 x 4096:
// 1 row 0.91-0.99 -> 0.80-0.83 ms, 2 rows 1.07-1.17 -> 0.95).
template <int R, bool kAU8, bool kFlip, size_t kKB>
void rows_x_block_direct(const uint8_t *B, size_t ldb, size_t k, size_t kr, size_t K, size_t n, size_t cols,
                         size_t N, const uint8_t *const *x, int32_t *const *p) {
  __m256i acc[R][4];
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) acc[r][j] =
        k == 0 ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(p[r] + 8 * j));
  const __m256i fl = _mm256_set1_epi8(kFlip ? (char)0x80 : 0);
  auto products = [&](size_t t, const __m256i(&q)[4]) {
    LB_UNROLL for (int r = 0; r < R; ++r) {
      const __m256i v = broadcast4(x[r] + 4 * t);
      LB_UNROLL for (int j = 0; j < 4; ++j) acc[r][j] = dp<kAU8>(acc[r][j], v, q[j]);
    }
  };
  if (kr == kKB && cols == 32) {
    const size_t pf = whole_fetch<kKB>(n, N, ldb, N >= 4 * kPF);
    LB_UNROLL for (size_t t = 0; t < kKB / 4; ++t) {
      __m256i q[4];
      load_quads_whole<kFlip>(B + (k + 4 * t) * ldb + n, ldb, pf, fl, q);
      products(t, q);
    }
  } else {
    for (size_t t = 0; t < (kr + 3) / 4; ++t) {
      __m256i q[4];
      load_quads<kFlip, kKB>(B, ldb, k, kr, K, n, cols, N, N >= 4 * kPF, fl, t, q);
      products(t, q);
    }
  }
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) _mm256_storeu_si256((__m256i *)(p[r] + 8 * j), acc[r][j]);
}

// R rows (x[r]: their bytes at the block's k; p[r]: their 32 sums) over kq quads of Q: P from
// zero when first, else added to.
template <int R, bool kAU8>
void rows_x_block(size_t kq, const int8_t *Q, const uint8_t *const *x, int32_t *const *p, bool first) {
  __m256i acc[R][4];
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) acc[r][j] =
        first ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(p[r] + 8 * j));
  for (size_t t = 0; t < kq; ++t) {
    __m256i v[R];
    LB_UNROLL for (int r = 0; r < R; ++r) v[r] = broadcast4(x[r] + 4 * t);
    LB_UNROLL for (int j = 0; j < 4; ++j) {
      const __m256i b = _mm256_load_si256((const __m256i *)(Q + 128 * t + 32 * j));
      LB_UNROLL for (int r = 0; r < R; ++r) acc[r][j] = dp<kAU8>(acc[r][j], v[r], b);
    }
  }
  LB_UNROLL for (int r = 0; r < R; ++r)
    LB_UNROLL for (int j = 0; j < 4; ++j) _mm256_storeu_si256((__m256i *)(p[r] + 8 * j), acc[r][j]);
}

// The 32 values at p, in the unpacks' order (vector j, lane l: columns 16 l + 4 j ..), into
// column order, in place.
inline void to_columns(int32_t *p) {
  const __m256i q0 = _mm256_loadu_si256((const __m256i *)p), q1 = _mm256_loadu_si256((const __m256i *)(p + 8));
  const __m256i q2 = _mm256_loadu_si256((const __m256i *)(p + 16)), q3 = _mm256_loadu_si256((const __m256i *)(p + 24));
  _mm256_storeu_si256((__m256i *)p, _mm256_permute2x128_si256(q0, q1, 0x20));
  _mm256_storeu_si256((__m256i *)(p + 8), _mm256_permute2x128_si256(q2, q3, 0x20));
  _mm256_storeu_si256((__m256i *)(p + 16), _mm256_permute2x128_si256(q0, q1, 0x31));
  _mm256_storeu_si256((__m256i *)(p + 24), _mm256_permute2x128_si256(q2, q3, 0x31));
}

template <bool kAU8, bool kFlip, size_t kKB, bool kDirect>
void kn(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, int32_t *P,
        size_t ldp, int32_t *S) {
  alignas(32) static const uint8_t ones[kMaxKB] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  alignas(32) int8_t Q[kKB / 4 * 128];
  alignas(32) int32_t tail[9][32];  // the partial last block: rows of P, then S
  const size_t whole = N / 32 * 32, rows = M + (S ? 1 : 0);
  const uint8_t *x[9];
  int32_t *p[9];
  for (size_t k = 0; k < K; k += kKB) {
    const size_t kr = K - k < kKB ? K - k : kKB;
    for (size_t n = 0; n < N; n += 32) {
      const size_t cols = N - n < 32 ? N - n : 32;
      if constexpr (!kDirect) block_quads<kFlip, kKB>(B, ldb, k, kr, K, n, cols, N, Q);
      for (size_t m = 0; m < M; ++m) {
        x[m] = a + m * lda + k;
        p[m] = n < whole ? P + m * ldp + n : tail[m];
      }
      if (S) {  // S as one more row of A, all ones
        x[M] = ones;
        p[M] = n < whole ? S + n : tail[M];
      }
      lb_for_each_tile<kDirect ? 2 : 3, 1>(rows, 1, [&](auto r, auto, size_t m, size_t) {
        if constexpr (kDirect)
          rows_x_block_direct<r.value, kAU8, kFlip, kKB>(B, ldb, k, kr, K, n, cols, N, x + m, p + m);
        else
          rows_x_block<r.value, kAU8>((kr + 3) / 4, Q, x + m, p + m, k == 0);
      });
    }
  }
  kn_finish<32>(M, N, K, P, ldp, S, tail, to_columns);
}

// ---- N x K ---------------------------------------------------------------------------------
// Lane sum modulo 2^32.
inline uint32_t lane_sum(__m256i v) {
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4E));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(q);
}

// R rows of A x C rows of B, 32 k a step; S's sums by one more vpdpbusd a row of B against
// ones. Each step fetches the next tile's rows at the same k (a row is only K bytes, too short
// to fetch ahead along).
template <int R, int C, bool kAU8>
void dots(size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, __m256i fl, int32_t *P, size_t ldp,
          int32_t *S) {
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i acc[R][C], cs[C];
  LB_UNROLL for (int j = 0; j < C; ++j) {
    cs[j] = _mm256_setzero_si256();
    LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm256_setzero_si256();
  }
  for (size_t k = 0; k < K; k += 32) {
    __m256i b[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const uint8_t *src = B + j * ldb + k;
      if (k + 32 <= K) {
        if (k + 32 < K) _mm_prefetch((const char *)src + C * ldb, _MM_HINT_T0);
        b[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)src), fl);
      } else {  // the last step: bytes past K zero (a is zero there too)
        alignas(32) uint8_t part[32] = {};
        memcpy(part, src, K - k);
        b[j] = _mm256_xor_si256(_mm256_load_si256((const __m256i *)part), fl);
        const __m256i idx = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                             20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
        b[j] = _mm256_and_si256(b[j], _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(K - k)), idx));
      }
      if (S) cs[j] = dp<kAU8>(cs[j], ones, b[j]);
    }
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m256i x = _mm256_loadu_si256((const __m256i *)(a + i * lda + k));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = dp<kAU8>(acc[i][j], x, b[j]);
    }
  }
  LB_UNROLL for (int j = 0; j < C; ++j) {
    LB_UNROLL for (int i = 0; i < R; ++i) P[i * ldp + j] = (int32_t)lane_sum(acc[i][j]);
    if (S) S[j] = (int32_t)lane_sum(cs[j]);
  }
}

template <bool kAU8>
void nk(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, uint8_t flip,
        int32_t *P, size_t ldp, int32_t *S) {
  const __m256i fl = _mm256_set1_epi8((char)flip);
  // 2 x 3 tiles: 6 accumulators, 3 of B, 3 of S's sums, a and the ones in 16 registers.
  lb_for_each_tile<2, 3>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    dots<r.value, c.value, kAU8>(K, a + m * lda, lda, B + n * ldb, ldb, fl, P + m * ldp + n, ldp,
                                 S && !m ? S + n : nullptr);
  });
}

void gemv_kn_u8_avxvnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                        size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  auto run = [&](auto kb, auto direct) {
    constexpr size_t KB = decltype(kb)::value;
    constexpr bool D = decltype(direct)::value;
    if (a_u8) (flip ? kn<true, true, KB, D> : kn<true, false, KB, D>)(M, N, K, a, lda, B, ldb, P, ldp, S);
    else (flip ? kn<false, true, KB, D> : kn<false, false, KB, D>)(M, N, K, a, lda, B, ldb, P, ldp, S);
  };
  // Blocks of 16 rows for one or two rows of A: fewer streams, and P's round trips weigh little
  // (Xeon host, 1 x 4096 x 4096, 1 thread: 32 rows 1.23-1.27 ms, 16 rows 0.94-0.98, 8 rows 1.04).
  using std::integral_constant;
  if (M + (S ? 1 : 0) <= 2) run(integral_constant<size_t, 16>{}, std::true_type{});
  else if (M <= 2) run(integral_constant<size_t, 16>{}, std::false_type{});
  else run(integral_constant<size_t, kMaxKB>{}, std::false_type{});
}

void gemv_nk_u8_avxvnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                        size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) nk<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else nk<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

}  // namespace

const lb_gemv_u8_kernels gemv_u8_avxvnni = {gemv_kn_u8_avxvnni, gemv_nk_u8_avxvnni, nullptr, 0, 1, 1};
