// What the NEON grouped kernels share (ggemm_neon.cpp, ggemm_neon_dotprod.cpp, and the
// weight-only wgemm_neon.cpp on the same panels): the field of a packed byte, a panel's four
// scales, a group's end (zero points, scales, the float add in SPEC §4's order) and the store. Include it after the file's own target pragma.
#pragma once
#include <arm_neon.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// Field t of every byte (its bits t * BITS ..): vshrq_n_u8 wants a constant, hence the cases
// (they fold once the t loop is unrolled). The top field needs no mask.
template <int BITS>
inline uint8x16_t lb_neon_field(uint8x16_t x, int t, uint8x16_t mask) {
  switch (t * BITS) {
    case 0: return vandq_u8(x, mask);
    case 2: return vandq_u8(vshrq_n_u8(x, 2), mask);
    case 4: return BITS == 4 ? vshrq_n_u8(x, 4) : vandq_u8(vshrq_n_u8(x, 4), mask);
    default: return vshrq_n_u8(x, 6);
  }
}

// The 4 scales at index w, float32 or binary16 (widened exactly).
inline float32x4_t lb_neon_scales(const float *s32, const uint16_t *s16, size_t w) {
  return s16 ? vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s16 + w))) : vld1q_f32(s32 + w);
}

// Group g's end for rows m .. m + R - 1 and panels p .. p + C - 1 of 4 columns: v holds each
// column's raw sum (already less zp * a_sum when zp_done), y the float accumulators.
template <int R, int C>
inline void lb_neon_group_end(const lb_ggemm_args &a, size_t m, size_t p, size_t g, int32x4_t (&v)[R][C],
                              bool zp_done, float32x4_t (&y)[R][C]) {
  LB_UNROLL for (int j = 0; j < C; ++j) {
    const size_t w = ((p + j) * a.groups + g) * 4;
    const float32x4_t ws = lb_neon_scales(a.w_scale, a.w_scale16, w);
    const int32x4_t zp = zp_done ? vdupq_n_s32(0) : vld1q_s32(a.w_zp + w);  // unread when done
    LB_UNROLL for (int i = 0; i < R; ++i) {
      int32x4_t s = v[i][j];
      if (!zp_done) s = vmlsq_n_s32(s, zp, a.a_sum[(m + i) * a.groups + g]);  // wraps
      if (a.a_zp) s = vmlsq_n_s32(s, vld1q_s32(a.w_qsum + w), a.a_zp[m + i]);
      y[i][j] = vaddq_f32(y[i][j], vmulq_f32(vcvtq_f32_s32(s), vmulq_n_f32(ws, a.a_scale[m + i])));
    }
  }
}

// Rows m .. m + R - 1 of panels p .. p + C - 1 to Y, plus the bias when there is one.
template <int R, int C>
inline void lb_neon_store(const float *bias, float *Y, size_t ldy, size_t m, size_t p, float32x4_t (&y)[R][C]) {
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float32x4_t v = y[i][j];
    const size_t n = (p + j) * 4;
    if (bias) v = vaddq_f32(v, vld1q_f32(bias + n));
    vst1q_f32(Y + (m + i) * ldy + n, v);
  }
}

}  // namespace
