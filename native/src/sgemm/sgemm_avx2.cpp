// Float32 GEMM (Y = A * B^T), AVX2 + FMA: 3 x 4 register tiles of 8-wide dot products.
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "sgemm_blocking.h"

namespace {

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// `mask` selects the valid lanes of the last, partial step of K.
inline __m256 load(const float *p, bool partial, __m256i mask) {
  return partial ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

// 12 accumulators + 3 A + 1 B registers; the K tail uses masked loads.
template <int R, int C>
void tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
          size_t ldy, bool accumulate) {
  __m256 acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  auto step = [&](size_t k, bool partial, __m256i mask) {
    __m256 a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = load(A + i * lda + k, partial, mask);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m256 b = load(B + j * ldb + k, partial, mask);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm256_fmadd_ps(a[i], b, acc[i][j]);
    }
  };
  size_t k = 0;
  for (; k + 8 <= K; k += 8) step(k, false, lane);
  if (k < K) step(k, true, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane));
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float v = hsum_ps(acc[i][j]);
    Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + v : v;
  }
}

}  // namespace

void sgemm_nt_avx2(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                   size_t ldb, float *Y, size_t ldy) {
  lb_sgemm_blocked<3, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                              size_t kc) {
    tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb, Y + m * ldy + n, ldy,
                           k0 > 0);
  });
}
