// Weight-only GEMV, AVX-512 (kernels.h, lb_wgemm_args): the grouped kernels' panels of 16
// columns dequantized in registers. A chunk's 32-bit lane j holds column j's values of
// 4 / (8 / bits) k, so one shift gives the 16 columns' indices of one k. nf4 and symmetric
// 4 / 2-bit weights look them up in a 16-entry table with one vpermps, which reads only an
// index's low 4 bits, so no mask (2 bits: the table repeats every 4 entries); 8 bits and
// per-column zero points mask, subtract and convert. Each group's sum is scaled once at its end
// (any order is allowed: SPEC §4's tolerance), with FMA.
#pragma GCC target("avx512f,avx512bw,avx512vl,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"
#include "ggemm_zmm_common.h"

namespace {

// The dequantized value of every index in 0..15 when one table serves all columns (nf4's code
// book, or symmetric weights: (u & mask) - zp), else false.
template <int BITS>
bool value_table(const lb_wgemm_args &a, float (&t)[16]) {
  if (a.codebook) {
    for (int u = 0; u < 16; ++u) t[u] = a.codebook[u];
    return true;
  }
  if (BITS == 8 || !a.zp_uniform) return false;
  for (int u = 0; u < 16; ++u) t[u] = (float)((u & ((1 << BITS) - 1)) - a.w_zp[0]);
  return true;
}

// kS partial sums per output, k-steps taking turns: one sum's FMAs form a chain of 4-cycle
// latencies, and R x C chains were too few to hide them (AMD host, 1 thread, interleaved, nf4
// g64 x 4096 x 4096: one row in 1 x 4 tiles with four sums 0.311-0.320 -> 0.281-0.295 ms,
// 2 rows with two 0.379-0.394 -> 0.349-0.361, 4 rows 0.737-0.760 -> 0.660-0.676). The lookups
// (8 vpermps per 64 bytes) bound it now.
template <int BITS, int R, int C, bool kTable, int kS = 2>
void tile(const lb_wgemm_args &a, const __m512 book, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 64;
  const __m512i mask = _mm512_set1_epi32((1 << BITS) - 1);
  const float *X = a.X + m * lda;
  const uint8_t *B = a.B + p * panel;
  __m512 y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] = _mm512_setzero_ps();
  for (size_t g = 0; g < a.groups; ++g) {
    __m512 s[kS][R][C];
    __m512i zp[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      zp[j] = kTable ? _mm512_setzero_si512()
                  : _mm512_loadu_si512((const void *)(a.w_zp + ((p + j) * a.groups + g) * 16));
      LB_UNROLL for (int h = 0; h < kS; ++h) LB_UNROLL for (int i = 0; i < R; ++i) s[h][i][j] = _mm512_setzero_ps();
    }
    const uint8_t *Bg = B + g * chunks * 64;
    const float *Xg = X + g * a.Gp;
    // The scales 4 groups on (Xeon host, nf4 g64 with float32 scales, one Llama-2-7B layer at M =
    // 1 from memory, ms: 1 thread 8.25 -> 7.80, 2 threads 4.51-4.58 -> 4.23-4.24; 8 groups on
    // gained less).
    lb_zmm_prefetch_scales<C>(a, p, g, 4);
    for (size_t c = 0; c < chunks; ++c) {
      __m512i x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const uint8_t *src = Bg + j * panel + c * 64;
        _mm_prefetch((const char *)src + 1024, _MM_HINT_T0);
        x[j] = _mm512_loadu_si512((const void *)src);
      }
      LB_UNROLL for (int t = 0; t < kPer; ++t) LB_UNROLL for (int b = 0; b < 4; ++b) {
        const size_t k = c * kr + 4 * t + b;
        LB_UNROLL for (int j = 0; j < C; ++j) {
          const int shift = 8 * b + t * BITS;
          const __m512i f = shift ? _mm512_srli_epi32(x[j], shift) : x[j];
          const __m512 w = kTable ? _mm512_permutexvar_ps(f, book)
                                  : _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(f, mask), zp[j]));
          const int h = (4 * t + b) % kS;  // a constant once unrolled
          LB_UNROLL for (int i = 0; i < R; ++i) s[h][i][j] =
              _mm512_fmadd_ps(_mm512_set1_ps(Xg[i * lda + k]), w, s[h][i][j]);
        }
      }
    }
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const size_t w = ((p + j) * a.groups + g) * 16;
      const __m512 sc = a.w_scale16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a.w_scale16 + w)))
                                    : _mm512_loadu_ps(a.w_scale + w);
      LB_UNROLL for (int i = 0; i < R; ++i) {
        __m512 sum = s[0][i][j];
        LB_UNROLL for (int h = 1; h < kS; ++h) sum = _mm512_add_ps(sum, s[h][i][j]);
        y[i][j] = _mm512_fmadd_ps(sum, sc, y[i][j]);
      }
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    __m512 v = y[i][j];
    const size_t n = (p + j) * 16;
    if (a.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(a.bias + n));
    _mm512_storeu_ps(a.Y + (m + i) * a.ldy + n, v);
  }
}

template <int BITS, bool kTable>
void wgemm(const lb_wgemm_args &a, const __m512 book) {
  auto run = [&](auto r, auto c, size_t m, size_t p) { tile<BITS, r.value, c.value, kTable>(a, book, m, p); };
  // One row: 8 panels (8 streams of weights) with one sum each, 8 FMA chains as 1 x 4 with
  // two (AMD host, nf4 g64, 1 x 4096 x 4096, 2 threads: 0.145 -> 0.138-0.143 ms; 1 x 11008 x
  // 4096, 1 thread: 0.83-0.91 -> 0.77-0.87; two sums each spilled).
  if (a.M == 1)
    lb_for_each_tile<1, 8>(a.M, a.N / 16, [&](auto r, auto c, size_t m, size_t p) {
      tile<BITS, r.value, c.value, kTable, 1>(a, book, m, p);
    });
  else if (a.M <= 2)
    lb_for_each_tile<2, 4>(a.M, a.N / 16, run);
  else
    lb_for_each_tile<4, 2>(a.M, a.N / 16, run);
}

template <int BITS>
void wgemm(const lb_wgemm_args &a) {
  float t[16];
  if (value_table<BITS>(a, t))
    wgemm<BITS, true>(a, _mm512_loadu_ps(t));
  else
    wgemm<BITS, false>(a, _mm512_setzero_ps());
}

}  // namespace

void wgemm_u8f32_avx512(const lb_wgemm_args &a) { wgemm<8>(a); }
void wgemm_u4f32_avx512(const lb_wgemm_args &a) { wgemm<4>(a); }
void wgemm_u2f32_avx512(const lb_wgemm_args &a) { wgemm<2>(a); }
