// Float32 GEMM (Y = A * B^T), plain AdvSIMD (baseline AArch64, no target pragma needed): the
// packed driver's 8 x 12 broadcast-FMA tile (24 accumulators, 3 B vectors, 2 A vectors whose
// lanes fmla takes as the broadcast: 29 of the 32 registers), and for a few rows of A, 4 x 4
// dot-product tiles on the unpacked rows (sgemm_blocking.h says why).
#include <arm_neon.h>

#include "../kernels.h"
#include "sgemm_blocking.h"

namespace {

// From this many rows of A on, the packed driver (see sgemm_avx2.cpp; not measured on Arm).
constexpr size_t kPackedMinM = 32;

struct kernel_neon_8x12 {
  static constexpr size_t MR = 8, NR = 12;

  static void tile(size_t kc, const float *Ap, const float *Bp, float *Y, size_t ldy,
                   bool accumulate) {
    float32x4_t acc[MR][3];
    LB_UNROLL for (size_t i = 0; i < MR; ++i) LB_UNROLL for (int j = 0; j < 3; ++j) acc[i][j] =
        vdupq_n_f32(0.0f);
#pragma GCC unroll 2
    for (size_t k = 0; k < kc; ++k) {
      const float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4), b2 = vld1q_f32(Bp + 8);
      const float32x4_t a0 = vld1q_f32(Ap), a1 = vld1q_f32(Ap + 4);
      // fmla by element: the lane index must be a constant, hence one line per row.
#define LB_SGEMM_ROW(i, a, lane)                             \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, a, lane);       \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, a, lane);       \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, a, lane);
      LB_SGEMM_ROW(0, a0, 0) LB_SGEMM_ROW(1, a0, 1) LB_SGEMM_ROW(2, a0, 2) LB_SGEMM_ROW(3, a0, 3)
      LB_SGEMM_ROW(4, a1, 0) LB_SGEMM_ROW(5, a1, 1) LB_SGEMM_ROW(6, a1, 2) LB_SGEMM_ROW(7, a1, 3)
#undef LB_SGEMM_ROW
      Ap += MR;
      Bp += NR;
    }
    // Y is read after the loop, so a miss on it does not hold the FMAs up.
    LB_UNROLL for (size_t i = 0; i < MR; ++i) LB_UNROLL for (int j = 0; j < 3; ++j) {
      float32x4_t v = acc[i][j];
      if (accumulate) v = vaddq_f32(vld1q_f32(Y + i * ldy + 4 * j), v);
      vst1q_f32(Y + i * ldy + 4 * j, v);
    }
  }

  // P rows -> k-major panel; `next`'s rows are prefetched a line per row every 16 floats.
  template <size_t P>
  static void pack_panel(size_t kc, const float *src, size_t ld, float *dst, const float *next) {
    for (size_t k = 0; k < kc; ++k) {
      if (next && k % 16 == 0)
        LB_UNROLL for (size_t j = 0; j < P; ++j) __builtin_prefetch(next + j * ld + k, 0, 2);
      LB_UNROLL for (size_t j = 0; j < P; ++j) dst[k * P + j] = src[j * ld + k];
    }
  }
  static void pack_a(size_t kc, const float *A, size_t lda, float *Ap, const float *next) {
    pack_panel<MR>(kc, A, lda, Ap, next);
  }
  static void pack_b(size_t kc, const float *B, size_t ldb, float *Bp, const float *next) {
    pack_panel<NR>(kc, B, ldb, Bp, next);
  }
};

// The last n < 4 floats at p in a zeroed vector; lane loads, so nothing past p[n-1] is read.
inline float32x4_t load_partial(const float *p, size_t n) {
  float32x4_t v = vdupq_n_f32(0.0f);
  v = vld1q_lane_f32(p, v, 0);
  if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
  return v;
}

// The dot-product tile: 16 accumulators + 4 A + 1 B of the 32 registers; the K tail uses zero-filled lane loads.
template <int R, int C>
void dot_tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
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
  if (M >= kPackedMinM && lb_sgemm_packed<kernel_neon_8x12>(M, N, K, A, lda, B, ldb, Y, ldy))
    return;
  lb_sgemm_dot<4, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                          size_t kc) {
    dot_tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb,
                               Y + m * ldy + n, ldy, k0 > 0);
  });
}
