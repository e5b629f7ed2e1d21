// Float32 GEMM (Y = A * B^T), AVX-512F: 4 x 4 register tiles of 16-wide dot products.
#pragma GCC target("avx512f,avx512bw,avx512vl,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "sgemm_blocking.h"

namespace {

// 16 accumulators + 4 A + 1 B of 32 registers; the K tail uses masked loads.
template <int R, int C>
void tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
          size_t ldy, bool accumulate) {
  __m512 acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm512_setzero_ps();
  auto step = [&](size_t k, __mmask16 mask) {
    __m512 a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = _mm512_maskz_loadu_ps(mask, A + i * lda + k);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m512 b = _mm512_maskz_loadu_ps(mask, B + j * ldb + k);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
    }
  };
  size_t k = 0;
  for (; k + 16 <= K; k += 16) step(k, (__mmask16)0xFFFF);
  if (k < K) step(k, (__mmask16)((1u << (K - k)) - 1));
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float v = _mm512_reduce_add_ps(acc[i][j]);
    Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + v : v;
  }
}

}  // namespace

void sgemm_nt_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                     size_t ldb, float *Y, size_t ldy) {
  lb_sgemm_blocked<4, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                              size_t kc) {
    tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb, Y + m * ldy + n, ldy,
                           k0 > 0);
  });
}
