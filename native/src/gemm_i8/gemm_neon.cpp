// Raw 8-bit GEMM, plain AdvSIMD (baseline AArch64, no target pragma needed). uint8 x int8 has
// no exact 8-bit multiply-accumulate here (smull of u8 by s8 needs 17 bits), so both operands
// are widened to int16 and multiplied into int32 with smlal/smlal2: each product is at most
// 255*128 = 32640 in magnitude, exact, and the int32 adds wrap like the reference's.
#include <arm_neon.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// R rows of A against C rows of B, 16 k per step: 16 accumulators + 8 A + 2 B of 32 registers.
template <int R, int C>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  int32x4_t acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      vdupq_n_s32(0);
  for (size_t k = 0; k < K; k += 16) {
    int16x8_t alo[R], ahi[R];  // uint8 0..255 fits int16, so the unsigned widening is exact
    LB_UNROLL for (int i = 0; i < R; ++i) {
      uint8x16_t a = vld1q_u8(A + i * K + k);
      alo[i] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(a)));
      ahi[i] = vreinterpretq_s16_u16(vmovl_high_u8(a));
    }
    LB_UNROLL for (int j = 0; j < C; ++j) {
      int8x16_t b = vld1q_s8(B + j * K + k);
      int16x8_t blo = vmovl_s8(vget_low_s8(b)), bhi = vmovl_high_s8(b);
      LB_UNROLL for (int i = 0; i < R; ++i) {
        int32x4_t s = acc[i][j];
        s = vmlal_s16(s, vget_low_s16(alo[i]), vget_low_s16(blo));
        s = vmlal_high_s16(s, alo[i], blo);
        s = vmlal_s16(s, vget_low_s16(ahi[i]), vget_low_s16(bhi));
        s = vmlal_high_s16(s, ahi[i], bhi);
        acc[i][j] = s;
      }
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      vaddvq_s32(acc[i][j]);  // addv wraps modulo 2^32
}

}  // namespace

void gemm_u8s8_neon(size_t M, size_t N, size_t K, const void *Av, const int8_t *B, int32_t *C,
                    size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  lb_for_each_tile<4, 4>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    tile<r.value, c.value>(K, A + m * K, B + n * K, C + m * ldc + n, ldc);
  });
}

const lb_gemm_i8_kernel gemm_i8_neon = {gemm_u8s8_neon, false, 1, 1, nullptr, nullptr, nullptr, false, nullptr, 0, nullptr, nullptr};
