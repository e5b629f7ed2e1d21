// Grouped GEMM, AVX-VNNI (kernels.h, lb_ggemm_args): the AVX2 kernels' panels of 8 columns,
// with vpdpbusd (VEX) in place of vpmaddubsw + vpmaddwd: weights unsigned (u8 / u4 / u2) as its
// first operand, a broadcast of four activation bytes as the signed one, four products summed
// exactly per lane. So 8-bit weights are served too. The per-group combine is the AVX2 one.
#pragma GCC target("avx2,fma,f16c,avxvnni")
#include <string.h>

#include "ggemm_ymm_common.h"

namespace {

// kMemY: the float sums in an L1 tile instead of registers (compute-bound tiles, kernels.h's
// 8-bit panels beyond 4 rows), so R x C int32 accumulators fit the 16 registers.
template <int BITS, int R, int C, bool kStream, bool kMemY = false, size_t kChunks = 0>
void tile(const lb_ggemm_args &a, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const size_t kr = lb_ggemm_kr(BITS), chunks = kChunks ? kChunks : a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 32;
  const __m256i mask = _mm256_set1_epi8((char)((1 << BITS) - 1));
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  // The next tile's panels, fetched ahead, only while they belong to this block: past its end
  // they are another thread's (with 16 threads the blocks hold a few tiles each).
  const bool ahead = kStream && p + 2 * C <= a.N / 8;
  using YT = typename lb_ymm_sum<kMemY>::type;
  alignas(32) YT y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    if constexpr (kMemY) _mm256_store_ps(y[i][j], _mm256_setzero_ps());
    else y[i][j] = _mm256_setzero_ps();
  }
  for (size_t g = 0; g < a.groups; ++g) {
    __m256i acc[R][C];
    lb_ymm_group_start<R, C>(a, m, g, acc);
    const uint8_t *Bg = B + g * chunks * 32;
    const int8_t *Ag = A + g * a.Gp;
    constexpr size_t kStep = kChunks ? kChunks : 1;
    for (size_t cb = 0; cb < chunks; cb += kStep) LB_UNROLL for (size_t u = 0; u < kStep; ++u) {
      const size_t c = cb + u;
      __m256i x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const uint8_t *src = Bg + j * panel + c * 32;
        if (ahead && (c & 1) == 0) _mm_prefetch((const char *)src + C * panel, _MM_HINT_T1);
        x[j] = _mm256_loadu_si256((const __m256i *)src);
      }
      LB_UNROLL for (int t = 0; t < kPer; ++t) {
        __m256i b[C];
        LB_UNROLL for (int j = 0; j < C; ++j) b[j] =
            BITS == 8 ? x[j] : _mm256_and_si256(t ? _mm256_srli_epi16(x[j], t * BITS) : x[j], mask);
        LB_UNROLL for (int i = 0; i < R; ++i) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
          const __m256i av = _mm256_set1_epi32(a4);
          LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], b[j], av);
        }
      }
    }
    lb_ymm_group_end<R, C>(a, m, p, g, acc, y);
  }
  lb_ymm_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

// 16 registers: 1 x 3 panels for one row, 2 x 2 up to 4 rows and on 4 / 2-bit panels the engine
// did not expand; 8-bit panels beyond 4 rows in 6 x 2 tiles with the float sums in L1 (AMD host,
// 1 thread, int4 g32 expanded, interleaved runs, 512 x 4096 x 4096: 186-198 -> 296-322 GOPS,
// 64 rows 181-183 -> 291-292, int8 weights 390-414 and 350-385 in the same runs; 4 x 3, 5 x 2
// and 3 x 3 ran alike).
template <int BITS>
void ggemm(const lb_ggemm_args &a) {
  auto run = [&](auto stream) {
    return [&, stream](auto r, auto c, size_t m, size_t p) {
      tile<BITS, r.value, c.value, decltype(stream)::value>(a, m, p);
    };
  };
  const size_t panels = a.N / 8;
  // One row, groups of 32 unrolled (tile_loop.h): AMD host, int4 g32 1 x 4096 x 4096, 2 threads
  // 0.135-0.138 -> 0.127-0.130 ms.
  if (a.M <= 1) {
    if constexpr (BITS < 8) if (a.Gp == 32) return lb_for_each_tile_g32<1, 3, 32 / lb_ggemm_kr(BITS)>(a.M, panels,
        [&](auto r, auto c, auto chunks, size_t m, size_t p) { tile<BITS, r.value, c.value, true, false, chunks.value>(a, m, p); });
    lb_for_each_tile<1, 3>(a.M, panels, run(std::true_type{}));
  }
  else if (a.M <= 4)
    lb_for_each_tile<2, 2>(a.M, panels, run(std::true_type{}));
  else if constexpr (BITS == 8)
    lb_for_each_tile<6, 2>(a.M, panels, [&](auto r, auto c, size_t m, size_t p) {
      tile<8, r.value, c.value, false, true>(a, m, p);
    });
  else
    lb_for_each_tile<2, 2>(a.M, panels, run(std::false_type{}));
}

}  // namespace

void ggemm_u8s8_avxvnni(const lb_ggemm_args &a) { ggemm<8>(a); }
void ggemm_u4s8_avxvnni(const lb_ggemm_args &a) { ggemm<4>(a); }
void ggemm_u2s8_avxvnni(const lb_ggemm_args &a) { ggemm<2>(a); }
