// Raw 8-bit GEMM, AdvSIMD int8 matrix multiply (smmla): A and B both int8 (the driver flips A's
// sign bit). One smmla multiplies a 2x8 block of A by an 8x2 block of B^T (two rows of B, as B
// is stored N x K) into a 2x2 int32 tile; each lane adds eight products of magnitude at most
// 128*128 = 16384, so the eight-term sum (|sum| <= 131072) is exact before its wrapping add.
#pragma GCC target("arch=armv8.2-a+i8mm")
// GCC 12's pre-register-allocation scheduler hoists all 16 row loads of a step ahead of the
// zips and spills the 8 x 8 tile's accumulators; without it the tile fits the 32 registers.
#pragma GCC optimize("no-schedule-insns")
#include <arm_neon.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// Two rows' 16 k, interleaved as smmla wants them: lo = [r0 k0..7 | r1 k0..7], hi = k8..15.
// A lone last row (odd tile height or width) is paired with itself; its duplicate results are
// never stored.
struct pair16 {
  int8x16_t lo, hi;
};
inline pair16 load_pair(const int8_t *r0, const int8_t *r1, bool has_r1) {
  int64x2_t x = vreinterpretq_s64_s8(vld1q_s8(r0));
  int64x2_t y = has_r1 ? vreinterpretq_s64_s8(vld1q_s8(r1)) : x;
  return {vreinterpretq_s8_s64(vzip1q_s64(x, y)), vreinterpretq_s8_s64(vzip2q_s64(x, y))};
}

// Up to 8 rows of A against up to 8 rows of B, 16 k per step, as (R+1)/2 x (C+1)/2 2x2 tiles:
// 16 accumulators + 8 A + 2 B (+ 2 loaded) of the 32 registers.
template <int R, int C>
void tile(size_t K, const int8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  constexpr int RP = (R + 1) / 2, CP = (C + 1) / 2;
  int32x4_t acc[RP][CP];  // acc[p][q] = [Y(2p,2q) Y(2p,2q+1) Y(2p+1,2q) Y(2p+1,2q+1)]
  LB_UNROLL for (int p = 0; p < RP; ++p) LB_UNROLL for (int q = 0; q < CP; ++q) acc[p][q] =
      vdupq_n_s32(0);
  for (size_t k = 0; k < K; k += 16) {
    pair16 a[RP];
    LB_UNROLL for (int p = 0; p < RP; ++p) a[p] =
        load_pair(A + 2 * p * K + k, A + (2 * p + 1) * K + k, 2 * p + 1 < R);
    LB_UNROLL for (int q = 0; q < CP; ++q) {
      pair16 b = load_pair(B + 2 * q * K + k, B + (2 * q + 1) * K + k, 2 * q + 1 < C);
      LB_UNROLL for (int p = 0; p < RP; ++p) acc[p][q] =
          vmmlaq_s32(vmmlaq_s32(acc[p][q], a[p].lo, b.lo), a[p].hi, b.hi);
    }
  }
  LB_UNROLL for (int p = 0; p < RP; ++p) LB_UNROLL for (int q = 0; q < CP; ++q) {
    int32_t *y0 = Y + 2 * p * ldc + 2 * q, *y1 = y0 + ldc;
    if (2 * q + 1 < C) {
      vst1_s32(y0, vget_low_s32(acc[p][q]));
      if (2 * p + 1 < R) vst1_s32(y1, vget_high_s32(acc[p][q]));
    } else {
      y0[0] = vgetq_lane_s32(acc[p][q], 0);
      if (2 * p + 1 < R) y1[0] = vgetq_lane_s32(acc[p][q], 2);
    }
  }
}

}  // namespace

void gemm_s8s8_neon_i8mm(size_t M, size_t N, size_t K, const void *Av, const int8_t *B,
                         int32_t *C, size_t ldc) {
  const int8_t *A = (const int8_t *)Av;
  lb_for_each_tile<8, 8>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    tile<r.value, c.value>(K, A + m * K, B + n * K, C + m * ldc + n, ldc);
  });
}

const lb_gemm_i8_kernel gemm_i8_neon_i8mm = {gemm_s8s8_neon_i8mm, true, 1, 1, nullptr, nullptr,
                                             nullptr, false, nullptr, 0, nullptr, nullptr};
