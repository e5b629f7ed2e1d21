// Float32 GEMM (Y = A * B^T), plain AdvSIMD (baseline AArch64, no target pragma needed):
// 4 x 4 register tiles of 4-wide dot products with fmla.
#include <arm_neon.h>

#include "../kernels.h"
#include "sgemm_blocking.h"

namespace {

// The last n < 4 floats at p in a zeroed vector; lane loads, so nothing past p[n-1] is read.
inline float32x4_t load_partial(const float *p, size_t n) {
  float32x4_t v = vdupq_n_f32(0.0f);
  v = vld1q_lane_f32(p, v, 0);
  if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
  return v;
}

// 16 accumulators + 4 A + 1 B of the 32 registers; the K tail uses zero-filled lane loads.
template <int R, int C>
void tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
          size_t ldy, bool accumulate) {
  float32x4_t acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      vdupq_n_f32(0.0f);
  auto step = [&](size_t k, size_t n) {  // n: valid floats at k, 4 except in the tail
    float32x4_t a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] =
        n == 4 ? vld1q_f32(A + i * lda + k) : load_partial(A + i * lda + k, n);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      float32x4_t b = n == 4 ? vld1q_f32(B + j * ldb + k) : load_partial(B + j * ldb + k, n);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = vfmaq_f32(acc[i][j], a[i], b);
    }
  };
  size_t k = 0;
  for (; k + 4 <= K; k += 4) step(k, 4);
  if (k < K) step(k, K - k);
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float v = vaddvq_f32(acc[i][j]);
    Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + v : v;
  }
}

}  // namespace

void sgemm_nt_neon(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                   size_t ldb, float *Y, size_t ldy) {
  lb_sgemm_blocked<4, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                              size_t kc) {
    tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb, Y + m * ldy + n, ldy,
                           k0 > 0);
  });
}
