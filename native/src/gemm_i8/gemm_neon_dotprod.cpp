// Raw 8-bit GEMM, AdvSIMD dot product (sdot): A and B both int8 (the driver flips A's sign bit).
// Each sdot lane adds four int8 x int8 products, each at most 128*128 = 16384 in magnitude, so
// the four-term sum (|sum| <= 65536) is exact before its wrapping 32-bit add.
#pragma GCC target("arch=armv8.2-a+dotprod")
#include <arm_neon.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// 16 k per step: 16 accumulators + 4 A + 1 B of the 32 registers.
template <int R, int C>
void tile(size_t K, const int8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  int32x4_t acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      vdupq_n_s32(0);
  for (size_t k = 0; k < K; k += 16) {
    int8x16_t a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = vld1q_s8(A + i * K + k);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      int8x16_t b = vld1q_s8(B + j * K + k);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = vdotq_s32(acc[i][j], a[i], b);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      vaddvq_s32(acc[i][j]);  // addv wraps modulo 2^32
}

}  // namespace

void gemm_s8s8_neon_dotprod(size_t M, size_t N, size_t K, const void *Av, const int8_t *B,
                            int32_t *C, size_t ldc) {
  const int8_t *A = (const int8_t *)Av;
  lb_for_each_tile<4, 4>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    tile<r.value, c.value>(K, A + m * K, B + n * K, C + m * ldc + n, ldc);
  });
}

const lb_gemm_i8_kernel gemm_i8_neon_dotprod = {gemm_s8s8_neon_dotprod, true, 1, 1, nullptr,
                                                nullptr, nullptr, false, nullptr, 0, nullptr, nullptr};
