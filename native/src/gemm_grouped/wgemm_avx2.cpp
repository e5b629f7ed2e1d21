// Weight-only GEMV, AVX2 (kernels.h, lb_wgemm_args): the AVX2 grouped kernels' panels of 8
// columns dequantized in registers, as wgemm_avx512.cpp does; nf4's 16-entry code book takes two
// vpermps and a blend on the index's bit 3, shifted straight to bit 31.
#pragma GCC target("avx2,fma,f16c")
#include "ggemm_ymm_common.h"

namespace {

// kS partial sums per output, k-steps taking turns (as in wgemm_avx512.cpp): one sum's FMAs
// form a chain of 4-cycle latencies, and 1 x 2 tiles have only two sums (AMD host, 1 thread,
// nf4 g64 x 4096 x 4096: one row 1.13-1.17 -> 0.99-1.02 ms, 2 rows 1.80-1.86 -> 1.29-1.30;
// four sums in the 2 x 1 tiles ran alike).
template <int BITS, int R, int C, int kS = 2>
void tile(const lb_wgemm_args &a, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 32;
  const __m256i mask = _mm256_set1_epi32((1 << BITS) - 1);
  const bool nf4 = a.codebook != nullptr;
  const __m256 lo = nf4 ? _mm256_loadu_ps(a.codebook) : _mm256_setzero_ps();
  const __m256 hi = nf4 ? _mm256_loadu_ps(a.codebook + 8) : _mm256_setzero_ps();
  const float *X = a.X + m * lda;
  const uint8_t *B = a.B + p * panel;
  __m256 y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] = _mm256_setzero_ps();
  for (size_t g = 0; g < a.groups; ++g) {
    __m256 s[kS][R][C];
    __m256i zp[C];
    LB_UNROLL for (int j = 0; j < C; ++j) {
      zp[j] = nf4 ? _mm256_setzero_si256()
                  : _mm256_loadu_si256((const __m256i *)(a.w_zp + ((p + j) * a.groups + g) * 8));
      LB_UNROLL for (int h = 0; h < kS; ++h) LB_UNROLL for (int i = 0; i < R; ++i) s[h][i][j] = _mm256_setzero_ps();
    }
    const uint8_t *Bg = B + g * chunks * 32;
    const float *Xg = X + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      __m256i x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const uint8_t *src = Bg + j * panel + c * 32;
        if ((c & 1) == 0) _mm_prefetch((const char *)src + 1024, _MM_HINT_T0);
        x[j] = _mm256_loadu_si256((const __m256i *)src);
      }
      LB_UNROLL for (int t = 0; t < kPer; ++t) LB_UNROLL for (int b = 0; b < 4; ++b) {
        const size_t k = c * kr + 4 * t + b;
        LB_UNROLL for (int j = 0; j < C; ++j) {
          const int shift = 8 * b + t * BITS;
          const __m256i f = shift ? _mm256_srli_epi32(x[j], shift) : x[j];
          __m256 w;
          if (nf4)  // vpermps reads index bits 0-2, vblendvps bit 31: no mask for either
            w = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, f), _mm256_permutevar8x32_ps(hi, f),
                                 _mm256_castsi256_ps(shift == 28 ? x[j] : _mm256_slli_epi32(x[j], 28 - shift)));
          else
            w = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(f, mask), zp[j]));
          const int h = (4 * t + b) % kS;  // a constant once unrolled
          LB_UNROLL for (int i = 0; i < R; ++i) s[h][i][j] =
              _mm256_fmadd_ps(_mm256_set1_ps(Xg[i * lda + k]), w, s[h][i][j]);
        }
      }
    }
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const __m256 sc = lb_ymm_scales(a.w_scale, a.w_scale16, ((p + j) * a.groups + g) * 8);
      LB_UNROLL for (int i = 0; i < R; ++i) {
        __m256 sum = s[0][i][j];
        LB_UNROLL for (int h = 1; h < kS; ++h) sum = _mm256_add_ps(sum, s[h][i][j]);
        y[i][j] = _mm256_fmadd_ps(sum, sc, y[i][j]);
      }
    }
  }
  lb_ymm_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

// 16 registers: 1 x 2 panels for one row, 2 x 1 beyond.
template <int BITS>
void wgemm(const lb_wgemm_args &a) {
  auto run = [&](auto r, auto c, size_t m, size_t p) { tile<BITS, r.value, c.value>(a, m, p); };
  if (a.M <= 1)
    lb_for_each_tile<1, 2>(a.M, a.N / 8, run);
  else
    lb_for_each_tile<2, 1>(a.M, a.N / 8, run);
}

}  // namespace

void wgemm_u4f32_avx2(const lb_wgemm_args &a) { wgemm<4>(a); }
void wgemm_u2f32_avx2(const lb_wgemm_args &a) { wgemm<2>(a); }
